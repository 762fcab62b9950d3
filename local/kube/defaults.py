"""What the API server does to an object before storing it: defaulting (``SetDefaults_*`` of apps/v1 and core/v1),
Go's JSON round trip (nulls and empty maps/lists disappear, empty structs stay), and validation.

Defaults matter: kubectl compares pod templates literally, so a fake that stored templates without
``securityContext: {}`` or ``terminationMessagePath`` would make ``rollout undo`` behave unlike a real cluster.
"""

from __future__ import annotations

import math
from typing import Any

from local.kube.selectors import match_label_selector

Json = dict[str, Any]

# Fields that are Go structs (not pointers to optional structs, not maps): an empty one is still serialized.
_STRUCT_FIELDS = frozenset({"resources", "securityContext", "status", "spec", "metadata", "emptyDir", "rollingUpdate"})


def go_round_trip(value: Any, key: str | None = None) -> Any:
    """Nulls, empty lists and empty maps vanish (``omitempty``); empty structs such as ``resources: {}`` stay."""
    if isinstance(value, dict):
        result = {}
        for k, v in value.items():
            if v is None:
                continue
            v = go_round_trip(v, k)
            if v == [] or (v == {} and k not in _STRUCT_FIELDS):
                continue
            result[k] = v
        return result
    if isinstance(value, list):
        return [go_round_trip(v, key) for v in value]
    return value


def _image_pull_policy(image: str) -> str:
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    if "@" in image:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _default_probe(probe: Json) -> None:
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if "httpGet" in probe:
        probe["httpGet"].setdefault("scheme", "HTTP")


def default_container(container: Json) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(container.get(probe), dict):
            _default_probe(container[probe])
    for env in container.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")


def default_pod_spec(spec: Json) -> None:
    """``SetDefaults_PodSpec`` and ``SetDefaults_Container`` (what shows in a Deployment's template)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        default_container(container)
    for volume in spec.get("volumes") or []:
        for source in ("configMap", "secret"):
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)


def default_deployment(deployment: Json) -> Json:
    """``SetDefaults_Deployment`` plus the pod template's defaults; returns the Go-round-tripped object."""
    spec = deployment.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))
    deployment.setdefault("status", {})
    result: Json = go_round_trip(deployment)
    result.setdefault("status", {})
    result["spec"]["template"].setdefault("metadata", {})
    return result


def scaled_int_or_percent(value: Any, total: int, *, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        scaled = int(text[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text)


class Invalid(ValueError):
    """Validation failed: 422 ``Invalid`` with one cause per field."""

    def __init__(self, causes: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in causes))
        self.causes = causes


def validate_deployment(deployment: Json, old: Json | None = None) -> None:
    causes: list[tuple[str, str]] = []
    spec = deployment.get("spec") or {}
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(("spec.selector", "Required value"))
    elif not match_label_selector(selector, labels):
        causes.append(
            ("spec.template.metadata.labels", f"Invalid value: {labels!r}: `selector` does not match template `labels`")
        )
    if old is not None and selector != old.get("spec", {}).get("selector"):
        causes.append(("spec.selector", f"Invalid value: {selector!r}: field is immutable"))
    if int(spec.get("replicas", 0)) < 0:
        causes.append(("spec.replicas", "Invalid value: must be greater than or equal to 0"))
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    if not containers:
        causes.append(("spec.template.spec.containers", "Required value"))
    names: set[str] = set()
    for i, container in enumerate(containers):
        if not container.get("name"):
            causes.append((f"spec.template.spec.containers[{i}].name", "Required value"))
        elif container["name"] in names:
            causes.append((f"spec.template.spec.containers[{i}].name", f'Duplicate value: "{container["name"]}"'))
        names.add(container.get("name", ""))
        if not container.get("image"):
            causes.append((f"spec.template.spec.containers[{i}].image", "Required value"))
    if spec.get("template", {}).get("spec", {}).get("restartPolicy") not in (None, "Always"):
        causes.append(("spec.template.spec.restartPolicy", 'Unsupported value: only "Always" is supported'))
    if causes:
        raise Invalid(causes)
