"""Server-side printing (``meta.k8s.io/v1`` Table) of Deployments, ReplicaSets and Pods, as ``kubectl get`` asks
for it: kubectl 1.37 has no client-side printers for these, so without tables it shows only NAME and AGE."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``, roughly: 45s, 5m, 3h, 2d."""
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 3600 * 3:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest}s" if minutes < 10 and rest else f"{minutes}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _age(obj: Json, now: datetime) -> str:
    created = datetime.strptime(obj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration((now - created).total_seconds())


def _containers(obj: Json) -> tuple[str, str]:
    template = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    containers = template.get("containers") or []
    return ",".join(c["name"] for c in containers), ",".join(c["image"] for c in containers)


def _selector(obj: Json) -> str:
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _pod_status(pod: Json) -> str:
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return str(waiting["reason"])
    return str(status.get("phase") or "Unknown")


def _columns(resource: str) -> list[tuple[str, str, int]]:
    common = [("Name", "string", 0)]
    if resource == "deployments":
        rest = [("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0), ("Age", "string", 0)]
        wide = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]
    elif resource == "replicasets":
        rest = [("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0), ("Age", "string", 0)]
        wide = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]
    else:
        rest = [("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0), ("Age", "string", 0)]
        wide = [("IP", "string", 1), ("Node", "string", 1)]
    return common + rest + wide


def _cells(resource: str, obj: Json, now: datetime) -> list[Any]:
    spec, status, name = obj["spec"], obj.get("status") or {}, obj["metadata"]["name"]
    if resource == "deployments":
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        return [name, ready, status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(obj, now),
                *_containers(obj), _selector(obj)]  # fmt: skip
    if resource == "replicasets":
        return [name, spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0),
                _age(obj, now), *_containers(obj), _selector(obj)]  # fmt: skip
    statuses = status.get("containerStatuses") or []
    ready = f"{sum(bool(c.get('ready')) for c in statuses)}/{len(spec.get('containers') or [])}"
    restarts = str(sum(int(c.get("restartCount") or 0) for c in statuses))
    return [name, ready, _pod_status(obj), restarts, _age(obj, now), status.get("podIP", "<none>"),
            spec.get("nodeName", "<none>")]  # fmt: skip


def table(resource: str, objects: list[Json], resource_version: str, *, include_object: str = "Metadata") -> Json:
    now = datetime.now(UTC)
    rows = []
    for obj in objects:
        if include_object == "Object":
            embedded: Json | None = obj
        elif include_object == "None":
            embedded = None
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
        rows.append({"cells": _cells(resource, obj, now), "object": embedded})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": name, "priority": p}
            for name, kind, p in _columns(resource)
        ],
        "rows": rows,
    }
