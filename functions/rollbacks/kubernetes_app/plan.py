"""Pre-checks of a Kubernetes application rollback: what ``kubectl rollout undo`` would do to each Deployment,
as planned changes for the approvers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.kubernetes_app.adapters.models import UndoPlan
from functions.rollbacks.kubernetes_app.input import KubernetesAppTarget
from functions.rollbacks.kubernetes_app.versions import versions

if TYPE_CHECKING:
    from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts

KIND = "kubernetes.rollout-undo"


def planned_change(plan: UndoPlan, cluster: str) -> PlannedChange:
    return PlannedChange(
        target=f"deployment/{plan.deployment} (namespace {plan.namespace})",
        kind=KIND,
        before=versions(plan.current_images),
        after=versions(plan.target_images),
        detail=f"revision {plan.current_revision} -> revision {plan.target_revision}; "
        f"images: {', '.join(plan.target_images)}",
        revert=f"kubectl rollout undo deployment/{plan.deployment} -n {plan.namespace} "
        f"(back to {versions(plan.current_images)})",
        resource=f"kubernetes:{cluster}/{plan.namespace}/deployment/{plan.deployment}",
        skip=plan.already_at_target,
        parameters=plan.model_dump(mode="json"),
    )


def plan_rollback(request: RollbackRequest, rollouts: DeploymentRollouts, cluster: str) -> RollbackPlan:
    target = KubernetesAppTarget.model_validate(request.target)
    namespace = target.namespace_in(request.environment)
    plans = [
        rollouts.plan_undo(namespace, name, to_revision=target.to_revision or 0, to_version=target.to_version)
        for name in target.deployments
    ]
    lines = [
        f"{p.deployment}: revision {p.current_revision} ({versions(p.current_images)}) -> "
        f"revision {p.target_revision} ({versions(p.target_images)})"
        + (" [already at target, will be skipped]" if p.already_at_target else "")
        for p in plans
    ]
    if request.feature_flags:
        lines.append("feature flags that could fix this instead: " + ", ".join(request.feature_flags))
    return RollbackPlan(
        changes=[planned_change(plan, cluster) for plan in plans],
        feature_flag_options=request.feature_flags,
        summary="\n".join(lines),
    )
