"""Carry out one approved change: ``kubectl rollout undo`` to the approved revision, refusing if the Deployment
moved (revision or pod template) since it was approved."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from functions.models.rollback import ChangeRecord, PlannedChange
from functions.rollbacks.kubernetes_app.adapters.models import UndoPlan

if TYPE_CHECKING:
    from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts


def roll_back_deployment(change: PlannedChange, rollouts: DeploymentRollouts, now: datetime) -> ChangeRecord:
    plan = UndoPlan.model_validate(change.parameters)
    result = rollouts.undo(plan.namespace, plan.deployment, to_revision=plan.target_revision, approved=plan)
    # Found at the target although the plan was not: made by an earlier attempt of this step (or by hand).
    moved = not result.skipped or not plan.already_at_target
    return ChangeRecord.of(
        change,
        "applied" if moved else "skipped",
        result.message,
        now,
        parameters={"namespace": plan.namespace, "deployment": plan.deployment},
    )
