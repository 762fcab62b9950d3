"""``kubectl rollout undo|status|history`` for apps/v1 Deployments, over the Kubernetes API.

Follows kubectl's own rules (``polymorphichelpers/rollback.go``, ``rollout_status.go``, ``history.go``) so that a
rollback done here leaves the cluster exactly as ``kubectl rollout undo`` would, plus an optimistic lock: the one
JSON patch starts with a ``test`` of ``/metadata/resourceVersion``.

Objects are read as the server's JSON (no generated models), so templates are compared and patched back
exactly as the server returned them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.capabilities.kubernetes.api import JSON_PATCH, ApiException, AppsV1, CoreV1
from functions.capabilities.kubernetes.rollout_status import rollout_state
from functions.errors import InvalidRollbackInput
from functions.rollbacks.kubernetes_app.adapters.models import (
    PodHealth,
    PodProblem,
    RevisionInfo,
    RolloutStatus,
    UndoPlan,
    UndoResult,
)
from functions.rollbacks.kubernetes_app.errors import (
    ConcurrentModification,
    DeploymentNotFound,
    DeploymentPaused,
    NoRolloutHistory,
    RevisionNotFound,
    RolloutFailed,
)

Json = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Annotations the Deployment keeps on undo; every other annotation comes from the target ReplicaSet.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
WAITING_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError"}
)
PAGE_SIZE = 500


def label_selector(selector: Json) -> str:
    """A LabelSelector (matchLabels + matchExpressions) as the ``labelSelector`` query string."""
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], sorted(expression.get("values") or [])
        if operator == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            raise ValueError(f"unsupported label selector operator {operator!r}")
    return ",".join(parts)


def _prune(value: Any) -> Any:
    """Drop nulls and empty lists/maps-that-Go-omits so that semantically equal templates compare equal."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in pruned.items() if not (k in ("labels", "annotations") and v == {}) and v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def template_without_hash(template: Json) -> Json:
    """A copy of a pod template without the ``pod-template-hash`` label (kubectl's ``equalIgnoreHash``)."""
    copy: Json = json.loads(json.dumps(template))
    labels = (copy.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return copy


def template_hash(template: Json) -> str:
    """A fingerprint of a pod template as kubectl compares them (pruned, without the ``pod-template-hash``)."""
    canonical = json.dumps(_prune(template_without_hash(template)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def equal_ignore_hash(a: Json, b: Json) -> bool:
    return bool(_prune(template_without_hash(a)) == _prune(template_without_hash(b)))


def revision_of(obj: Json) -> int | None:
    """The revision annotation: missing -> 0, unparsable -> None (kubectl skips such ReplicaSets)."""
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(REVISION)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return None


def images_of(template: Json) -> list[str]:
    return [str(c.get("image", "")) for c in (template.get("spec") or {}).get("containers") or []]


def image_tag(image: str) -> str:
    """``registry/app:v1.2`` -> ``v1.2``; ``app@sha256:...`` -> the digest; no tag -> ``latest``."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _creation_key(rs: Json) -> tuple[str, str]:
    meta = rs["metadata"]
    return (str(meta.get("creationTimestamp") or ""), str(meta["name"]))


class _History:
    """A Deployment with its owned ReplicaSets split as kubectl does: the new one (template match) and the rest."""

    def __init__(self, deployment: Json, replica_sets: list[Json]) -> None:
        self.deployment = deployment
        ordered = sorted(replica_sets, key=_creation_key)
        template = deployment["spec"]["template"]
        self.new: Json | None = next(
            (rs for rs in ordered if equal_ignore_hash(rs["spec"]["template"], template)), None
        )
        new_uid = self.new["metadata"]["uid"] if self.new else None
        self.old = [rs for rs in ordered if rs["metadata"]["uid"] != new_uid]

    @property
    def all(self) -> list[Json]:
        return self.old + ([self.new] if self.new else [])

    @property
    def name(self) -> str:
        return str(self.deployment["metadata"]["name"])

    @property
    def current_revision(self) -> int:
        if self.new is not None and (revision := revision_of(self.new)) is not None:
            return revision
        return revision_of(self.deployment) or 0

    def target(self, to_revision: int) -> tuple[Json, int]:
        """kubectl's ``deploymentRevision``: the ReplicaSet to roll back to and its revision."""
        if to_revision < 0:
            raise RevisionNotFound(
                f"unable to find specified revision {to_revision} in history of deployment {self.name}"
            )
        latest: tuple[Json, int] | None = None
        previous: tuple[Json, int] | None = None
        for rs in self.all:
            revision = revision_of(rs)
            if revision is None:
                continue
            if to_revision > 0:
                if revision == to_revision:
                    return rs, revision
            elif latest is None or latest[1] < revision:
                previous, latest = latest, (rs, revision)
            elif previous is None or previous[1] < revision:
                previous = (rs, revision)
        if to_revision > 0:
            raise RevisionNotFound(
                f"unable to find specified revision {to_revision} in history of deployment {self.name}"
            )
        if previous is None:
            raise NoRolloutHistory(f'no rollout history found for deployment "{self.name}"')
        return previous

    def revision_for_version(self, version: str) -> int:
        """The newest revision whose containers run an image tagged ``version``."""
        matches = [
            revision
            for rs in self.all
            if (revision := revision_of(rs)) is not None
            and any(image_tag(image) == version for image in images_of(rs["spec"]["template"]))
        ]
        if not matches:
            known = ", ".join(sorted({image_tag(i) for rs in self.all for i in images_of(rs["spec"]["template"])}))
            raise RevisionNotFound(
                f"no revision of deployment {self.name} runs version {version!r} "
                f"(versions in history: {known or 'none'})"
            )
        return max(matches)


class DeploymentRollouts:
    """kubectl's rollout commands for Deployments, with injected API clients (see :mod:`.client`)."""

    def __init__(self, apps: AppsV1, core: CoreV1) -> None:
        self.apps = apps
        self.core = core

    # --- reading ------------------------------------------------------------------------------------------

    def _deployment(self, namespace: str, name: str) -> Json:
        try:
            return self.apps.read_namespaced_deployment(name, namespace)
        except ApiException as error:
            if error.status == 404:
                raise DeploymentNotFound(f'deployment "{name}" not found in namespace "{namespace}"') from error
            raise

    def _list(self, method: Any, namespace: str, selector: str) -> list[Json]:
        items: list[Json] = []
        token: str | None = None
        while True:
            page = method(namespace, label_selector=selector, limit=PAGE_SIZE, _continue=token or None)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def _history(self, namespace: str, name: str) -> _History:
        deployment = self._deployment(namespace, name)
        uid = deployment["metadata"]["uid"]
        selector = label_selector(deployment["spec"].get("selector") or {})
        owned = [
            rs
            for rs in self._list(self.apps.list_namespaced_replica_set, namespace, selector)
            if any(
                ref.get("controller") and ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or []
            )
        ]
        return _History(deployment, owned)

    def history(self, namespace: str, name: str) -> list[RevisionInfo]:
        """``kubectl rollout history``: one entry per revision, ascending (a later ReplicaSet wins a tie)."""
        by_revision: dict[int, Json] = {}
        for rs in self._history(namespace, name).all:
            revision = revision_of(rs)
            if revision is not None:
                by_revision[revision] = rs
        return [
            RevisionInfo(
                revision=revision,
                change_cause=(rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) or None,
                images=images_of(rs["spec"]["template"]),
            )
            for revision, rs in sorted(by_revision.items())
        ]

    # --- undo ---------------------------------------------------------------------------------------------

    def _plan(
        self, namespace: str, name: str, to_revision: int, to_version: str | None
    ) -> tuple[UndoPlan, _History, Json]:
        history = self._history(namespace, name)
        if to_version is not None:
            by_version = history.revision_for_version(to_version)
            if to_revision and to_revision != by_version:
                raise InvalidRollbackInput(
                    f"deployment {name}: to_revision {to_revision} does not run version {to_version!r} "
                    f"(revision {by_version} does); give one or the other"
                )
            to_revision = by_version
        target, target_revision = history.target(to_revision)
        deployment = history.deployment
        plan = UndoPlan(
            deployment=name,
            namespace=namespace,
            current_revision=history.current_revision,
            target_revision=target_revision,
            current_images=images_of(deployment["spec"]["template"]),
            target_images=images_of(target["spec"]["template"]),
            resource_version=str(deployment["metadata"]["resourceVersion"]),
            template_hash=template_hash(deployment["spec"]["template"]),
            target_template_hash=template_hash(target["spec"]["template"]),
            already_at_target=equal_ignore_hash(target["spec"]["template"], deployment["spec"]["template"]),
            paused=bool(deployment["spec"].get("paused")),
        )
        if plan.paused:
            raise DeploymentPaused(
                f'deployment "{name}" in namespace "{namespace}" is paused: you cannot rollback a paused deployment; '
                "resume it first with 'kubectl rollout resume' and try again"
            )
        return plan, history, target

    def plan_undo(self, namespace: str, name: str, *, to_revision: int = 0, to_version: str | None = None) -> UndoPlan:
        """What ``kubectl rollout undo [--to-revision]`` would do; writes nothing."""
        return self._plan(namespace, name, to_revision, to_version)[0]

    def undo(
        self,
        namespace: str,
        name: str,
        *,
        to_revision: int = 0,
        to_version: str | None = None,
        approved: UndoPlan | None = None,
        attempts: int = 3,
    ) -> UndoResult:
        """``kubectl rollout undo`` as one JSON patch guarded by a ``test`` of the resourceVersion just read.

        ``approved``: the plan approvers saw. The Deployment must still be at that revision and pod template
        (a scale or a status update, constant during an incident, does not matter); otherwise nothing is changed.
        A write that lands between the read and the patch (the ``test`` fails) is met by reading again, up to
        ``attempts`` times.
        """
        if approved is not None and not approved.already_at_target:
            current = self._deployment(namespace, name)
            if template_hash(current["spec"]["template"]) == approved.target_template_hash:
                message = "found rolled back already (by an earlier attempt): nothing to do"
                return UndoResult(**approved.model_dump(), skipped=True, message=message)
        for attempt in range(1, attempts + 1):
            plan, history, target = self._plan(namespace, name, to_revision, to_version)
            if approved is not None:
                _still_as_approved(approved, plan)
            if plan.already_at_target:
                message = f"skipped rollback (current template already matches revision {plan.target_revision})"
                return UndoResult(**plan.model_dump(), skipped=True, message=message)
            patch = undo_patch(history.deployment, target)
            try:
                patched = self.apps.patch_namespaced_deployment(name, namespace, patch, content_type=JSON_PATCH)
                break
            except ApiException as error:
                if error.status == 404:
                    raise DeploymentNotFound(f'deployment "{name}" not found in namespace "{namespace}"') from error
                if not (error.status == 409 or (error.status == 422 and _failed_test(error))):
                    raise
                if attempt == attempts:
                    raise ConcurrentModification(
                        f'deployment "{name}" in namespace "{namespace}" kept being modified while rolling back '
                        f"({attempts} attempts); nothing was changed"
                    ) from error
        return UndoResult(
            **plan.model_dump(exclude={"resource_version"}),
            resource_version=str(patched["metadata"]["resourceVersion"]),
            skipped=False,
            message=f"deployment.apps/{name} rolled back",
        )

    # --- status -------------------------------------------------------------------------------------------

    def status(self, namespace: str, name: str, *, revision: int | None = None) -> RolloutStatus:
        """One evaluation of ``kubectl rollout status``; raises RolloutFailed past the progress deadline."""
        deployment = self._deployment(namespace, name)
        running = revision_of(deployment)
        if revision and revision != running:
            raise ConcurrentModification(
                f'deployment "{name}": desired revision ({revision}) is different from the running revision ({running})'
            )
        state = rollout_state(deployment)
        if state.deadline_exceeded:
            raise RolloutFailed(state.message)
        return RolloutStatus(
            done=state.done,
            message=state.message,
            revision=running or 0,
            observed=state.observed,
            generation=state.generation,
            observed_generation=state.observed_generation,
            replicas=state.replicas,
            updated_replicas=state.updated_replicas,
            ready_replicas=state.ready_replicas,
            available_replicas=state.available_replicas,
        )

    # --- pods ---------------------------------------------------------------------------------------------

    def pod_health(self, namespace: str, name: str) -> PodHealth:
        """Pods of the current ReplicaSet (by ``pod-template-hash``): ready count and what keeps the others down."""
        history = self._history(namespace, name)
        desired = int(history.deployment["spec"].get("replicas", 1))
        new = history.new
        if new is None:
            problem = PodProblem(
                pod="-", reason="NoNewReplicaSet", message="no ReplicaSet matches the pod template yet"
            )
            return PodHealth(healthy=False, ready=0, desired=desired, problems=[problem])
        pod_hash = (new["metadata"].get("labels") or {}).get(HASH_LABEL)
        selector = label_selector(history.deployment["spec"].get("selector") or {})
        if pod_hash:
            selector = f"{selector},{HASH_LABEL}={pod_hash}" if selector else f"{HASH_LABEL}={pod_hash}"
        pods = [
            pod
            for pod in self._list(self.core.list_namespaced_pod, namespace, selector)
            if not pod["metadata"].get("deletionTimestamp")
        ]
        ready, problems = 0, []
        for pod in sorted(pods, key=lambda p: str(p["metadata"]["name"])):
            pod_ready, pod_problems = _pod_state(pod)
            ready += pod_ready
            problems.extend(pod_problems)
        if not problems and ready < desired:
            problems.append(
                PodProblem(
                    pod="-", reason="NotReady", message=f"{ready} of {desired} pods of {new['metadata']['name']} ready"
                )
            )
        return PodHealth(
            healthy=not problems, ready=ready, desired=desired, replica_set=new["metadata"]["name"], problems=problems
        )


def _still_as_approved(approved: UndoPlan, now: UndoPlan) -> None:
    """What approvers approved is a move from this revision and pod template: refuse if either moved since."""
    if (now.current_revision, now.template_hash) != (approved.current_revision, approved.template_hash):
        raise ConcurrentModification(
            f'deployment "{now.deployment}" in namespace "{now.namespace}" changed since the rollback was approved: '
            f"revision {approved.current_revision} ({', '.join(approved.current_images)}) is now revision "
            f"{now.current_revision} ({', '.join(now.current_images)}); nothing was changed; plan and approve again"
        )


def undo_patch(deployment: Json, target_rs: Json) -> list[Json]:
    """The JSON patch of ``kubectl rollout undo`` (template and annotations), behind a resourceVersion test."""
    template = template_without_hash(target_rs["spec"]["template"])
    labels = template.get("metadata", {}).get("labels")
    if labels == {}:
        del template["metadata"]["labels"]
    current = deployment["metadata"].get("annotations")
    annotations = {k: v for k, v in (current or {}).items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update(
        {k: v for k, v in (target_rs["metadata"].get("annotations") or {}).items() if k not in ANNOTATIONS_TO_SKIP}
    )
    return [
        {"op": "test", "path": "/metadata/resourceVersion", "value": deployment["metadata"]["resourceVersion"]},
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace" if current is not None else "add", "path": "/metadata/annotations", "value": annotations},
    ]


def _pod_state(pod: Json) -> tuple[int, list[PodProblem]]:
    name = str(pod["metadata"]["name"])
    status = pod.get("status") or {}
    problems = []
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    scheduled = conditions.get("PodScheduled")
    if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        problems.append(PodProblem(pod=name, reason="Unschedulable", message=scheduled.get("message")))
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in WAITING_REASONS:
            message = waiting.get("message") or f"container {container.get('name')}"
            problems.append(PodProblem(pod=name, reason=str(waiting["reason"]), message=message))
    ready = conditions.get("Ready", {}).get("status") == "True"
    return int(ready), problems


def _failed_test(error: ApiException) -> bool:
    """A 422 from the API server because a JSON patch ``test`` op did not hold (``NewGenericServerResponse``)."""
    try:
        status = json.loads(error.body or "{}")
    except ValueError:
        return False
    messages = [status.get("message") or ""]
    messages += [cause.get("message") or "" for cause in (status.get("details") or {}).get("causes") or []]
    return any("test failed" in message for message in messages)
