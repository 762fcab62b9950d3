"""Checks after the undo: the rollout finishes (``kubectl rollout status`` rules) and the new pods are healthy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from functions.models.rollback import ChangeRecord
from functions.rollbacks.kubernetes_app.errors import PodsUnhealthy, RolloutTimedOut

if TYPE_CHECKING:
    from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts


class RolloutProgress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    done: bool
    message: str
    revision: int


class PodsHealthy(BaseModel):
    healthy: bool
    summary: str


def _deployment(change: ChangeRecord) -> tuple[str, str]:
    return str(change.parameters["namespace"]), str(change.parameters["deployment"])


def check_rollout(
    change: ChangeRecord, rollouts: DeploymentRollouts, now: datetime, timeout: timedelta
) -> RolloutProgress:
    namespace, deployment = _deployment(change)
    status = rollouts.status(namespace, deployment)
    if not status.done and now - change.started_at > timeout:
        raise RolloutTimedOut(
            f"deployment {deployment} did not finish rolling out within {int(timeout.total_seconds())} s: "
            f"{status.message}"
        )
    return RolloutProgress(done=status.done, message=status.message, revision=status.revision)


def check_pods(change: ChangeRecord, rollouts: DeploymentRollouts) -> PodsHealthy:
    namespace, deployment = _deployment(change)
    health = rollouts.pod_health(namespace, deployment)
    if not health.healthy:
        problems = "; ".join(f"{p.pod}: {p.reason}" + (f" ({p.message})" if p.message else "") for p in health.problems)
        raise PodsUnhealthy(f"deployment {deployment}: {health.ready}/{health.desired} pods ready; {problems}")
    return PodsHealthy(healthy=True, summary=f"{deployment}: {health.ready}/{health.desired} pods ready")
