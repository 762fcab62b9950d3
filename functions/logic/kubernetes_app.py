"""Kubernetes application rollback: plan, undo, follow the rollout, check the pods.

Works on :class:`functions.kubernetes.rollouts.DeploymentRollouts` (kubectl's semantics over the API).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from functions.errors import PodsUnhealthy, RolloutTimedOut
from functions.models.rollback import (
    DeploymentChange,
    DeploymentPlan,
    PreCheckResult,
    RollbackRequest,
    RolloutProgress,
)

if TYPE_CHECKING:
    from functions.kubernetes.rollouts import DeploymentRollouts


def image_version(image: str) -> str:
    """The tag of an image reference (``registry/app:v1.2`` -> ``v1.2``); the digest if pinned by digest."""
    name = image.split("@", 1)[0]
    if "@" in image:
        return image.split("@", 1)[1]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def versions(images: list[str]) -> str:
    return ", ".join(dict.fromkeys(image_version(image) for image in images)) or "unknown"


def run_prechecks(request: RollbackRequest, rollouts: DeploymentRollouts) -> PreCheckResult:
    plans = [
        rollouts.plan_undo(request.namespace, name, to_revision=request.to_revision or 0, to_version=request.to_version)
        for name in request.deployments
    ]
    lines = [
        f"{p.deployment}: revision {p.current_revision} ({versions(p.current_images)}) -> "
        f"revision {p.target_revision} ({versions(p.target_images)})"
        + (" [already at target, will be skipped]" if p.already_at_target else "")
        for p in plans
    ]
    if request.feature_flags:
        lines.append("feature flags that could fix this instead: " + ", ".join(request.feature_flags))
    return PreCheckResult(deployments=plans, feature_flag_options=request.feature_flags, summary="\n".join(lines))


def roll_back_deployment(
    request: RollbackRequest, plan: DeploymentPlan, rollouts: DeploymentRollouts, now: datetime
) -> DeploymentChange:
    """Undo to the approved target; refuses if the Deployment changed since it was approved."""
    result = rollouts.undo(
        plan.namespace,
        plan.deployment,
        to_revision=plan.target_revision,
        expected_resource_version=plan.resource_version,
    )
    return DeploymentChange(
        target=plan.deployment,
        namespace=plan.namespace,
        from_version=versions(plan.current_images),
        to_version=versions(plan.target_images),
        from_revision=plan.current_revision,
        to_revision=plan.target_revision,
        skipped=result.skipped,
        message=result.message,
        started_at=now,
    )


def check_rollout(
    change: DeploymentChange, rollouts: DeploymentRollouts, now: datetime, timeout: timedelta
) -> RolloutProgress:
    status = rollouts.status(change.namespace, change.target)
    if not status.done and now - change.started_at > timeout:
        raise RolloutTimedOut(
            f"deployment {change.target} did not finish rolling out within {int(timeout.total_seconds())} s: "
            f"{status.message}"
        )
    return RolloutProgress(done=status.done, message=status.message, revision=status.revision)


def check_pods(change: DeploymentChange, rollouts: DeploymentRollouts) -> str:
    health = rollouts.pod_health(change.namespace, change.target)
    if not health.healthy:
        problems = "; ".join(f"{p.pod}: {p.reason}" + (f" ({p.message})" if p.message else "") for p in health.problems)
        raise PodsUnhealthy(f"deployment {change.target}: {health.ready}/{health.desired} pods ready; {problems}")
    return f"{change.target}: {health.ready}/{health.desired} pods ready"
