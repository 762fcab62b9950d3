"""The node side of the fake cluster: scheduler and kubelet (pod phases, readiness, injected faults) and the
ReplicaSet controller that creates and deletes pods. Deterministic: one step per :class:`Kubelet` call.
"""

from __future__ import annotations

import copy
import hashlib

from local.kube.selectors import match_label_selector
from local.kube.store import Json, Store, controller_ref, iter_owned, now_rfc3339

FAULTS = ("ImagePullBackOff", "CrashLoopBackOff", "Unschedulable")
NODE = "fake-node-1"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphabet


def safe_encode(text: str) -> str:
    return "".join(_SAFE[ord(ch) % len(_SAFE)] for ch in text)


def replicas_of(obj: Json) -> int:
    return int(obj["spec"].get("replicas", 1))


def status_count(obj: Json, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def find_condition(status: Json, kind: str) -> Json | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def compact_status(status: Json, keep: tuple[str, ...] = ()) -> Json:
    """Go's omitempty on integer status fields."""
    return {k: v for k, v in status.items() if not (v == 0 and k not in keep) and v not in (None, [])}


def _reverse(text: str) -> str:
    """A sort key that orders strings in reverse."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


class Kubelet:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.failing: dict[str, str] = {}  # image -> reason
        self.pod_counter = 0

    def step_pods(self) -> None:
        """Scheduler and kubelet: every pod moves one step towards Running/Ready, or into its fault."""
        for pod in self.store.list("pods"):
            self._kubelet(pod)

    def sync_replica_sets(self) -> None:
        """ReplicaSet controller: pods created or deleted to match spec.replicas; status counted."""
        for rs in self.store.list("replicasets"):
            self._sync_replica_set(rs)

    def _fault(self, pod: Json) -> str | None:
        for container in pod["spec"].get("containers") or []:
            if container.get("image") in self.failing:
                return self.failing[container["image"]]
        return None

    def _kubelet(self, pod: Json) -> None:
        status = pod.setdefault("status", {})
        fault = self._fault(pod)
        now = now_rfc3339()
        containers = pod["spec"].get("containers") or []
        if not pod["spec"].get("nodeName"):
            if fault == "Unschedulable":
                unschedulable = {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": now,
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                    "3 No preemption victims found for incoming pod.",
                }
                if not find_condition(status, "PodScheduled"):
                    status["conditions"] = [unschedulable]
                    self._write_pod(pod)
                return
            pod["spec"]["nodeName"] = NODE
            status.update(
                {
                    "phase": "Pending",
                    "hostIP": "10.0.0.10",
                    "startTime": now,
                    "conditions": [
                        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                        {"type": "Ready", "status": "False", "lastTransitionTime": now, "reason": "ContainersNotReady"},
                        {"type": "ContainersReady", "status": "False", "lastTransitionTime": now},
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                    ],
                    "containerStatuses": [
                        {
                            "name": c["name"],
                            "image": c["image"],
                            "imageID": "",
                            "ready": False,
                            "restartCount": 0,
                            "started": False,
                            "state": {"waiting": {"reason": "ContainerCreating"}},
                        }
                        for c in containers
                    ],
                }
            )
            self._write_pod(pod)
            return
        waiting = [
            (cs.get("state") or {}).get("waiting", {}).get("reason") for cs in status.get("containerStatuses") or []
        ]
        if fault == "ImagePullBackOff":
            reason = (
                "ImagePullBackOff" if "ErrImagePull" in waiting or "ImagePullBackOff" in waiting else "ErrImagePull"
            )
            for cs, container in zip(status["containerStatuses"], containers, strict=False):
                if container["image"] in self.failing:
                    message = (
                        f'Back-off pulling image "{container["image"]}"'
                        if reason == "ImagePullBackOff"
                        else f'rpc error: code = NotFound desc = failed to pull and unpack image "{container["image"]}"'
                    )
                    cs.update(ready=False, started=False, state={"waiting": {"reason": reason, "message": message}})
            self._set_ready(pod, False)
            self._write_pod(pod)
            return
        if fault == "CrashLoopBackOff":
            for cs, container in zip(status["containerStatuses"], containers, strict=False):
                crashing = (cs.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
                if container["image"] in self.failing and not crashing:
                    cs.update(
                        ready=False,
                        started=False,
                        restartCount=max(1, int(cs.get("restartCount") or 0)),
                        state={
                            "waiting": {
                                "reason": "CrashLoopBackOff",
                                "message": f"back-off 10s restarting failed container={container['name']} "
                                f"pod={pod['metadata']['name']}",
                            }
                        },
                        lastState={
                            "terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}
                        },
                    )
            status["phase"] = "Running"
            self._set_ready(pod, False)
            self._write_pod(pod)
            return
        status["phase"] = "Running"
        status.setdefault(
            "podIP", f"10.1.0.{int(hashlib.sha256(pod['metadata']['name'].encode()).hexdigest(), 16) % 250 + 2}"
        )
        for cs in status.get("containerStatuses") or []:
            if not (cs.get("state") or {}).get("running"):
                cs.update(ready=True, started=True, state={"running": {"startedAt": now}})
                cs["imageID"] = (
                    cs["imageID"]
                    or f"{cs['image'].split(':')[0]}@sha256:{hashlib.sha256(cs['image'].encode()).hexdigest()}"
                )
        self._set_ready(pod, True)
        self._write_pod(pod)

    def _set_ready(self, pod: Json, ready: bool) -> None:
        now = now_rfc3339()
        for entry in pod["status"].get("conditions") or []:
            if entry["type"] in ("Ready", "ContainersReady"):
                value = "True" if ready else "False"
                if entry["status"] != value:
                    entry["status"], entry["lastTransitionTime"] = value, now
                    entry.pop("reason", None)
                    if not ready:
                        entry["reason"] = "ContainersNotReady"

    def _write_pod(self, pod: Json) -> None:
        self.store.replace("pods", pod)

    # --- ReplicaSet controller ----------------------------------------------------------------------------

    def _pod_name(self, rs: Json) -> str:
        self.pod_counter += 1
        digest = hashlib.sha256(f"{rs['metadata']['uid']}/{self.pod_counter}".encode()).hexdigest()
        return f"{rs['metadata']['name']}-{safe_encode(digest)[:5]}"

    def _new_pod(self, rs: Json) -> Json:
        template = copy.deepcopy(rs["spec"]["template"])
        metadata = template.get("metadata") or {}
        spec = template["spec"]
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", "default")
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        return {
            "metadata": {
                "name": self._pod_name(rs),
                "generateName": rs["metadata"]["name"] + "-",
                "namespace": rs["metadata"]["namespace"],
                "labels": dict(metadata.get("labels") or {}),
                **({"annotations": dict(metadata["annotations"])} if metadata.get("annotations") else {}),
                "ownerReferences": [controller_ref(rs)],
            },
            "spec": spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }

    def _sync_replica_set(self, rs: Json) -> None:
        pods = list(iter_owned(self.store.list("pods", rs["metadata"]["namespace"]), rs["metadata"]["uid"]))
        desired = replicas_of(rs)
        for _ in range(desired - len(pods)):
            pods.append(self.store.create("pods", self._new_pod(rs)))
        if len(pods) > desired:
            # Like getPodsToDelete: unscheduled, then pending, then not ready, then the newest first.
            def rank(pod: Json) -> tuple[int, int, int, str]:
                ready = any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in pod.get("status", {}).get("conditions") or []
                )
                return (
                    int(bool(pod["spec"].get("nodeName"))),
                    int(pod.get("status", {}).get("phase") == "Running"),
                    int(ready),
                    _reverse(pod["metadata"]["creationTimestamp"] + pod["metadata"]["name"]),
                )

            doomed = sorted(pods, key=rank)[: len(pods) - desired]
            for pod in doomed:
                self.store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
            pods = [p for p in pods if p not in doomed]
        ready = sum(
            any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions") or [])
            for p in pods
        )
        selector = rs["spec"].get("selector")
        labeled = sum(match_label_selector(selector, p["metadata"].get("labels") or {}) for p in pods)
        status = compact_status(
            {
                "replicas": len(pods),
                "fullyLabeledReplicas": labeled,
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"]["generation"],
            },
            keep=("replicas",),
        )
        if rs.get("status") != status:
            rs["status"] = status
            self.store.replace("replicasets", rs)
