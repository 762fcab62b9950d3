"""A deterministic stand-in for kube-controller-manager's Deployment controller (pods: :mod:`local.kube.kubelet`).

It follows ``pkg/controller/deployment`` (``sync.go``, ``rolling.go``, ``recreate.go``, ``progress.go``,
``util/deployment_util.go``): ReplicaSet reuse with a revision bump and ``revision-history``, new ReplicaSets named
``<deployment>-<pod-template-hash>``, rolling scale steps bounded by maxSurge/maxUnavailable, status and
conditions, ``revisionHistoryLimit`` pruning. Time is counted in ticks: :meth:`Controller.tick` runs one pass
of the kubelet, the ReplicaSet controller and the Deployment controller, and writes only what changed.
"""

from __future__ import annotations

import copy
import json

from local.kube.defaults import scaled_int_or_percent
from local.kube.kubelet import (
    Kubelet,
    compact_status,
    find_condition,
    replicas_of,
    safe_encode,
    status_count,
)
from local.kube.store import Json, Store, controller_ref, iter_owned, now_rfc3339

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        "deprecated.deployment.rollback.to",
    }
)
MAX_REVISION_HISTORY_CHARS = 2000


def pod_template_hash(template: Json, collision_count: int | None) -> str:
    """Like ``controller.ComputeHash``: fnv32a of the template (and the collision count), safely encoded."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(value))


def without_hash(template: Json) -> Json:
    copied = copy.deepcopy(template)
    labels = copied.get("metadata", {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            del copied["metadata"]["labels"]
    return copied


def equal_ignore_hash(a: Json, b: Json) -> bool:
    return without_hash(a) == without_hash(b)


def revision(obj: Json) -> int | None:
    raw = (obj["metadata"].get("annotations") or {}).get(REVISION)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return None


def by_creation(objects: list[Json]) -> list[Json]:
    return sorted(objects, key=lambda o: (o["metadata"]["creationTimestamp"], o["metadata"]["name"]))


def _set_condition(status: Json, new: Json) -> bool:
    """``SetDeploymentCondition``: no-op when status and reason are unchanged; keeps lastTransitionTime."""
    current = find_condition(status, new["type"])
    if current and current["status"] == new["status"] and current["reason"] == new["reason"]:
        return False
    if current and current["status"] == new["status"]:
        new["lastTransitionTime"] = current["lastTransitionTime"]
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != new["type"]]
    status["conditions"].append(new)
    return True


def _new_condition(kind: str, status: str, reason: str, message: str) -> Json:
    now = now_rfc3339()
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


class Controller:
    def __init__(self, store: Store, *, progress_deadline_ticks: int = 50) -> None:
        self.store = store
        self.progress_deadline_ticks = progress_deadline_ticks
        self.ticks = 0
        self.kubelet = Kubelet(store)
        self.progress_marks: dict[str, int] = {}  # deployment uid -> tick of the Progressing condition's lastUpdateTime

    # --- state for snapshots ------------------------------------------------------------------------------

    def snapshot(self) -> Json:
        return copy.deepcopy(
            {
                "ticks": self.ticks,
                "failing": self.kubelet.failing,
                "progress_marks": self.progress_marks,
                "pod_counter": self.kubelet.pod_counter,
            }
        )

    def restore(self, state: Json) -> None:
        state = copy.deepcopy(state)
        self.ticks = state["ticks"]
        self.kubelet.failing = state["failing"]
        self.progress_marks = state["progress_marks"]
        self.kubelet.pod_counter = state["pod_counter"]

    # --- the loop -----------------------------------------------------------------------------------------

    def tick(self) -> bool:
        """One pass of kubelet, ReplicaSet controller and Deployment controller; True if anything was written."""
        with self.store.lock:
            before = self.store.writes
            self.ticks += 1
            self.kubelet.step_pods()
            self.kubelet.sync_replica_sets()
            for deployment in self.store.list("deployments"):
                self._sync_deployment(deployment)
            return self.store.writes != before

    def is_settled(self, deployment: Json) -> bool:
        """Complete (all replicas updated and available, no old ones), paused, or past its progress deadline."""
        spec, status = deployment["spec"], deployment.get("status") or {}
        if spec.get("paused"):
            return True
        progressing = find_condition(status, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            return True
        replicas = int(spec.get("replicas", 1))
        return (
            int(status.get("observedGeneration") or 0) >= int(deployment["metadata"].get("generation") or 0)
            and status_count(deployment, "updatedReplicas") == replicas
            and status_count(deployment, "replicas") == replicas
            and status_count(deployment, "availableReplicas") == replicas
        )

    # --- Deployment controller ----------------------------------------------------------------------------

    def _owned_replica_sets(self, deployment: Json) -> list[Json]:
        rss = iter_owned(
            self.store.list("replicasets", deployment["metadata"]["namespace"]), deployment["metadata"]["uid"]
        )
        return by_creation(list(rss))

    def _write_deployment_status(self, deployment: Json) -> None:
        """UpdateStatus: status and annotations change, generation does not."""
        stored = self.store.replace("deployments", deployment)
        deployment.clear()
        deployment.update(stored)

    def _write_replica_set(self, rs: Json, *, spec_changed: bool) -> None:
        current = self.store.get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
        if spec_changed and current is not None and current["spec"] != rs["spec"]:
            rs["metadata"]["generation"] = int(current["metadata"].get("generation") or 1) + 1
        stored = self.store.replace("replicasets", rs)
        rs.clear()
        rs.update(stored)

    def _sync_deployment(self, deployment: Json) -> None:
        if deployment["metadata"].get("deletionTimestamp"):
            return
        rss = self._owned_replica_sets(deployment)
        self._check_paused_conditions(deployment)
        if deployment["spec"].get("paused"):
            new, old = self._get_new_replica_set(deployment, rss, create=False)
            all_rss = old + ([new] if new else [])
            self._cleanup(deployment, old)
            self._sync_status(deployment, all_rss, new)
            return
        if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
            self._rollout_recreate(deployment, rss)
        else:
            self._rollout_rolling(deployment, rss)

    def _mark_progress(self, deployment: Json) -> None:
        self.progress_marks[deployment["metadata"]["uid"]] = self.ticks

    def _check_paused_conditions(self, deployment: Json) -> None:
        if deployment["spec"].get("progressDeadlineSeconds") is None:
            return
        status = deployment.setdefault("status", {})
        condition = find_condition(status, "Progressing")
        if condition and condition.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_exists = bool(condition and condition.get("reason") == "DeploymentPaused")
        if deployment["spec"].get("paused") and not paused_exists:
            _set_condition(status, _new_condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"))
        elif not deployment["spec"].get("paused") and paused_exists:
            _set_condition(
                status, _new_condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
            )
        else:
            return
        self._mark_progress(deployment)
        self._write_deployment_status(deployment)

    # getNewReplicaSet and friends

    def _max_surge(self, deployment: Json) -> int:
        strategy = deployment["spec"].get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return 0
        return self._fenceposts(deployment)[0]

    def _max_unavailable(self, deployment: Json) -> int:
        strategy = deployment["spec"].get("strategy") or {}
        replicas = replicas_of(deployment)
        if strategy.get("type") == "Recreate" or replicas == 0:
            return 0
        return min(self._fenceposts(deployment)[1], replicas)

    def _fenceposts(self, deployment: Json) -> tuple[int, int]:
        rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        replicas = replicas_of(deployment)
        surge = scaled_int_or_percent(rolling.get("maxSurge", "25%"), replicas, round_up=True)
        unavailable = scaled_int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable

    def _set_replicas_annotations(self, rs: Json, deployment: Json) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        desired = str(replicas_of(deployment))
        maximum = str(replicas_of(deployment) + self._max_surge(deployment))
        changed = annotations.get(DESIRED_REPLICAS) != desired or annotations.get(MAX_REPLICAS) != maximum
        annotations[DESIRED_REPLICAS], annotations[MAX_REPLICAS] = desired, maximum
        return changed

    def _set_new_rs_annotations(self, deployment: Json, rs: Json, new_revision: int, *, exists: bool) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        changed = False
        for key, value in (deployment["metadata"].get("annotations") or {}).items():
            if key in ANNOTATIONS_TO_SKIP or annotations.get(key) == value:
                continue
            annotations[key] = value
            changed = True
        old_raw = annotations.get(REVISION)
        try:
            old_revision = int(old_raw) if old_raw is not None else 0
        except ValueError:
            return False
        if old_revision < new_revision:
            annotations[REVISION] = str(new_revision)
            changed = True
            if old_raw is not None:
                history = annotations.get(REVISION_HISTORY, "")
                revisions = history.split(",") if history else []
                total = len(history) + len(old_raw) + 1
                start = 0
                while total > MAX_REVISION_HISTORY_CHARS and start < len(revisions):
                    total -= len(revisions[start]) + 1
                    start += 1
                if total <= MAX_REVISION_HISTORY_CHARS:
                    annotations[REVISION_HISTORY] = ",".join([*revisions[start:], old_raw])
        if not exists and self._set_replicas_annotations(rs, deployment):
            changed = True
        return changed

    def _set_deployment_revision(self, deployment: Json, value: str) -> bool:
        annotations = deployment["metadata"].setdefault("annotations", {})
        if annotations.get(REVISION) == value:
            return False
        annotations[REVISION] = value
        return True

    def _new_rs_replicas(self, deployment: Json, all_rss: list[Json], new: Json) -> int:
        replicas = replicas_of(deployment)
        if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
            return replicas
        current = sum(replicas_of(rs) for rs in all_rss)
        max_total = replicas + self._max_surge(deployment)
        if current >= max_total:
            return replicas_of(new)
        return replicas_of(new) + min(max_total - current, replicas - replicas_of(new))

    def _get_new_replica_set(
        self, deployment: Json, rss: list[Json], *, create: bool
    ) -> tuple[Json | None, list[Json]]:
        template = deployment["spec"]["template"]
        new = next((rs for rs in rss if equal_ignore_hash(rs["spec"]["template"], template)), None)
        old = [rs for rs in rss if rs is not new]
        max_old = max((r for rs in old if (r := revision(rs)) is not None), default=0)
        new_revision = max_old + 1
        has_deadline = deployment["spec"].get("progressDeadlineSeconds") is not None
        status = deployment.setdefault("status", {})
        if new is not None:
            annotations_updated = self._set_new_rs_annotations(deployment, new, new_revision, exists=True)
            min_ready = deployment["spec"].get("minReadySeconds")
            if annotations_updated or new["spec"].get("minReadySeconds") != min_ready:
                if min_ready is None:
                    new["spec"].pop("minReadySeconds", None)
                else:
                    new["spec"]["minReadySeconds"] = min_ready
                self._write_replica_set(new, spec_changed=True)
                return new, old
            needs_update = self._set_deployment_revision(deployment, new["metadata"]["annotations"].get(REVISION, ""))
            if has_deadline and find_condition(status, "Progressing") is None:
                message = f'Found new replica set "{new["metadata"]["name"]}"'
                _set_condition(status, _new_condition("Progressing", "True", "FoundNewReplicaSet", message))
                self._mark_progress(deployment)
                needs_update = True
            if needs_update:
                self._write_deployment_status(deployment)
            return new, old
        if not create:
            return None, old
        collision_count = status.get("collisionCount")
        rs_template = copy.deepcopy(template)
        pod_hash = pod_template_hash(rs_template, collision_count)
        rs_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        meta = deployment["metadata"]
        rs: Json = {
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "labels": dict(rs_template["metadata"]["labels"]),
                "ownerReferences": [controller_ref(deployment)],
            },
            "spec": {
                "replicas": 0,
                **(
                    {"minReadySeconds": deployment["spec"]["minReadySeconds"]}
                    if deployment["spec"].get("minReadySeconds")
                    else {}
                ),
                "selector": selector,
                "template": rs_template,
            },
            "status": {"replicas": 0},
        }
        rs["spec"]["replicas"] = self._new_rs_replicas(deployment, [*old, rs], rs)
        self._set_new_rs_annotations(deployment, rs, new_revision, exists=False)
        if self.store.get("replicasets", meta["namespace"], rs["metadata"]["name"]) is not None:
            # Hash collision with a ReplicaSet we do not own or whose template differs: retry with a new hash.
            status["collisionCount"] = int(collision_count or 0) + 1
            self._write_deployment_status(deployment)
            return None, old
        created = self.store.create("replicasets", rs)
        self._set_deployment_revision(deployment, str(new_revision))
        if has_deadline:
            message = f'Created new replica set "{created["metadata"]["name"]}"'
            _set_condition(status, _new_condition("Progressing", "True", "NewReplicaSetCreated", message))
            self._mark_progress(deployment)
        self._write_deployment_status(deployment)
        return created, old

    # scaling

    def _scale(self, rs: Json, replicas: int, deployment: Json) -> bool:
        size_changed = replicas_of(rs) != replicas
        annotations_changed = self._set_replicas_annotations(rs, deployment)
        if size_changed or annotations_changed:
            rs["spec"]["replicas"] = replicas
            self._write_replica_set(rs, spec_changed=True)
        return size_changed

    def _reconcile_new(self, deployment: Json, all_rss: list[Json], new: Json) -> bool:
        replicas = replicas_of(deployment)
        if replicas_of(new) == replicas:
            return False
        if replicas_of(new) > replicas:
            return self._scale(new, replicas, deployment)
        return self._scale(new, self._new_rs_replicas(deployment, all_rss, new), deployment)

    def _reconcile_old(self, deployment: Json, all_rss: list[Json], old_active: list[Json], new: Json) -> bool:
        if sum(replicas_of(rs) for rs in old_active) == 0:
            return False
        all_pods = sum(replicas_of(rs) for rs in all_rss)
        min_available = replicas_of(deployment) - self._max_unavailable(deployment)
        new_unavailable = replicas_of(new) - status_count(new, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        cleaned = 0
        for rs in by_creation(old_active):  # cleanupUnhealthyReplicas
            if cleaned >= max_scaled_down:
                break
            unhealthy = replicas_of(rs) - status_count(rs, "availableReplicas")
            if replicas_of(rs) == 0 or unhealthy <= 0:
                continue
            count = min(max_scaled_down - cleaned, unhealthy)
            self._scale(rs, replicas_of(rs) - count, deployment)
            cleaned += count
        available = sum(status_count(rs, "availableReplicas") for rs in [*old_active, new])
        scaled = 0
        if available > min_available:  # scaleDownOldReplicaSetsForRollingUpdate
            wanted = available - min_available
            for rs in by_creation(old_active):
                if scaled >= wanted:
                    break
                if replicas_of(rs) == 0:
                    continue
                count = min(replicas_of(rs), wanted - scaled)
                self._scale(rs, replicas_of(rs) - count, deployment)
                scaled += count
        return cleaned + scaled > 0

    def _rollout_rolling(self, deployment: Json, rss: list[Json]) -> None:
        new, old = self._get_new_replica_set(deployment, rss, create=True)
        if new is None:
            return
        all_rss = [*old, new]
        if self._reconcile_new(deployment, all_rss, new):
            self._sync_rollout_status(deployment, all_rss, new)
            return
        if self._reconcile_old(deployment, all_rss, [rs for rs in old if replicas_of(rs) > 0], new):
            self._sync_rollout_status(deployment, all_rss, new)
            return
        if self._complete(deployment, deployment.get("status") or {}):
            self._cleanup(deployment, old)
        self._sync_rollout_status(deployment, all_rss, new)

    def _rollout_recreate(self, deployment: Json, rss: list[Json]) -> None:
        new, old = self._get_new_replica_set(deployment, rss, create=False)
        all_rss = old + ([new] if new else [])
        scaled_down = False
        for rs in old:
            if replicas_of(rs) != 0:
                self._scale(rs, 0, deployment)
                scaled_down = True
        if scaled_down or any(status_count(rs, "replicas") > 0 for rs in old):
            self._sync_rollout_status(deployment, all_rss, new)
            return
        if new is None:
            new, old = self._get_new_replica_set(deployment, self._owned_replica_sets(deployment), create=True)
            if new is None:
                return
            all_rss = [*old, new]
        self._scale(new, replicas_of(deployment), deployment)
        if self._complete(deployment, deployment.get("status") or {}):
            self._cleanup(deployment, old)
        self._sync_rollout_status(deployment, all_rss, new)

    def _cleanup(self, deployment: Json, old: list[Json]) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        alive.sort(key=lambda rs: (revision(rs) or 0, rs["metadata"]["creationTimestamp"], rs["metadata"]["name"]))
        for rs in alive[:diff]:
            if (
                status_count(rs, "replicas") != 0
                or replicas_of(rs) != 0
                or int(rs["metadata"].get("generation") or 0) > status_count(rs, "observedGeneration")
            ):
                continue
            self.store.delete("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])

    # status

    def _calculate_status(self, deployment: Json, all_rss: list[Json], new: Json | None) -> Json:
        available = sum(status_count(rs, "availableReplicas") for rs in all_rss)
        total = sum(replicas_of(rs) for rs in all_rss)
        current = deployment.get("status") or {}
        status: Json = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": sum(status_count(rs, "replicas") for rs in all_rss),
            "updatedReplicas": status_count(new, "replicas") if new else 0,
            "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in all_rss),
            "availableReplicas": available,
            "unavailableReplicas": max(total - available, 0),
            "conditions": copy.deepcopy(current.get("conditions") or []),
        }
        if current.get("collisionCount") is not None:
            status["collisionCount"] = current["collisionCount"]
        if available >= replicas_of(deployment) - self._max_unavailable(deployment):
            condition = _new_condition(
                "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
            )
        else:
            condition = _new_condition(
                "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
            )
        _set_condition(status, condition)
        return status

    def _complete(self, deployment: Json, status: Json) -> bool:
        replicas = replicas_of(deployment)
        return (
            int(status.get("updatedReplicas") or 0) == replicas
            and int(status.get("replicas") or 0) == replicas
            and int(status.get("availableReplicas") or 0) == replicas
            and int(status.get("observedGeneration") or 0) >= int(deployment["metadata"]["generation"])
        )

    def _sync_status(self, deployment: Json, all_rss: list[Json], new: Json | None) -> None:
        status = compact_status(self._calculate_status(deployment, all_rss, new))
        if status != deployment.get("status"):
            deployment["status"] = status
            self._write_deployment_status(deployment)

    def _sync_rollout_status(self, deployment: Json, all_rss: list[Json], new: Json | None) -> None:
        status = self._calculate_status(deployment, all_rss, new)
        old_status = deployment.get("status") or {}
        has_deadline = deployment["spec"].get("progressDeadlineSeconds") is not None
        if not has_deadline:
            status["conditions"] = [c for c in status["conditions"] if c["type"] != "Progressing"]
        current = find_condition(old_status, "Progressing")
        complete_before = (
            status["replicas"] == status["updatedReplicas"]
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        rs_name = new["metadata"]["name"] if new else None
        subject = f'ReplicaSet "{rs_name}"' if rs_name else f'Deployment "{deployment["metadata"]["name"]}"'
        if has_deadline and not complete_before:
            if self._complete(deployment, status):
                condition = _new_condition(
                    "Progressing", "True", "NewReplicaSetAvailable", f"{subject} has successfully progressed."
                )
                _set_condition(status, condition)
            elif self._progressing(old_status, status):
                condition = _new_condition("Progressing", "True", "ReplicaSetUpdated", f"{subject} is progressing.")
                if current is not None and current.get("status") == "True":
                    condition["lastTransitionTime"] = current["lastTransitionTime"]
                status["conditions"] = [c for c in status["conditions"] if c["type"] != "Progressing"] + [condition]
                self._mark_progress(deployment)
            elif self._timed_out(deployment, status):
                condition = _new_condition(
                    "Progressing", "False", "ProgressDeadlineExceeded", f"{subject} has timed out progressing."
                )
                _set_condition(status, condition)
        status = compact_status(status)
        if status != old_status:
            deployment["status"] = status
            self._write_deployment_status(deployment)

    @staticmethod
    def _progressing(old: Json, new: Json) -> bool:
        def get(status: Json, key: str) -> int:
            return int(status.get(key) or 0)

        return (
            get(new, "updatedReplicas") > get(old, "updatedReplicas")
            or get(new, "replicas") - get(new, "updatedReplicas") < get(old, "replicas") - get(old, "updatedReplicas")
            or get(new, "readyReplicas") > get(old, "readyReplicas")
            or get(new, "availableReplicas") > get(old, "availableReplicas")
        )

    def _timed_out(self, deployment: Json, status: Json) -> bool:
        condition = find_condition(status, "Progressing")
        if condition is None or condition.get("reason") == "NewReplicaSetAvailable":
            return False
        if condition.get("reason") == "ProgressDeadlineExceeded":
            return True
        mark = self.progress_marks.setdefault(deployment["metadata"]["uid"], self.ticks)
        return self.ticks - mark > self.progress_deadline_ticks
