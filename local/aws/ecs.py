"""The emulated ECS's deployments: moto 5.2.5 points a service at a new task definition on ``UpdateService`` but
starts no deployment (the PRIMARY deployment keeps the old task definition, ``runningCount`` stays as it was), so
neither the ``services_stable`` waiter nor a read of the deployments ever sees a rollout complete. The stand-in
(installed by :mod:`local.aws.patches`) starts a deployment as ECS does — a new PRIMARY one ``IN_PROGRESS`` with
no task running, the previous one ``ACTIVE`` — and completes it after ``reads_in_progress`` reads of the service
(every desired task running, ``rolloutState`` ``COMPLETED``, the old deployment gone), or fails it:

    DEPLOYMENTS.script("skillancer-api", reads_in_progress=2, state="FAILED")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random


@dataclass(frozen=True)
class Rollout:
    reads_in_progress: int = 1
    state: str = "COMPLETED"


class EcsDeploymentsStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Rollout]] = {}
        self._reads_left: dict[str, tuple[int, str]] = {}  # deployment id -> (reads left, how it ends)

    def script(self, service: str, reads_in_progress: int = 1, state: str = "COMPLETED") -> None:
        with self._lock:
            self._scripts.setdefault(service, []).append(Rollout(reads_in_progress, state))

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._reads_left.clear()

    def begin(self, service: Any, previous_task_definition: str | None) -> None:
        """``service`` (moto's) was just pointed at a new task definition: a new PRIMARY deployment starts."""
        if service.task_definition == previous_task_definition or not service.deployments:
            return
        with self._lock:
            scripts = self._scripts.get(service.name) or []
            rollout = scripts.pop(0) if scripts else Rollout()
        now = utcnow()
        for deployment in service.deployments:
            deployment["status"] = "ACTIVE"
        deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
        service.deployments.insert(
            0,
            {
                **service.deployments[0],
                "id": deployment_id,
                "status": "PRIMARY",
                "taskDefinition": service.task_definition,
                "desiredCount": service.desired_count,
                "runningCount": 0,
                "pendingCount": service.desired_count,
                "failedTasks": 0,
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
                "createdAt": now,
                "updatedAt": now,
            },
        )
        with self._lock:
            self._reads_left[deployment_id] = (rollout.reads_in_progress, rollout.state)

    def report(self, service: Any) -> None:
        """Brings ``service``'s deployments up to date, as a ``DescribeServices`` read finds them."""
        if not service.deployments:
            return
        primary = service.deployments[0]
        with self._lock:
            left = self._reads_left.get(primary["id"])
            if left is None:
                return
            if left[0] > 0:
                self._reads_left[primary["id"]] = (left[0] - 1, left[1])
                return
            del self._reads_left[primary["id"]]
        primary["updatedAt"] = utcnow()
        if left[1] == "FAILED":
            reason = f"ECS deployment {primary['id']} failed: tasks failed to start."
            primary.update(rolloutState="FAILED", failedTasks=service.desired_count, rolloutStateReason=reason)
            return
        reason = f"ECS deployment {primary['id']} completed."
        primary.update(runningCount=service.desired_count, pendingCount=0, rolloutState="COMPLETED")
        primary["rolloutStateReason"] = reason
        del service.deployments[1:]
        service.running_count, service.pending_count = service.desired_count, 0


DEPLOYMENTS = EcsDeploymentsStandIn()
