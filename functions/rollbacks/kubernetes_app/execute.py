"""Carry out one approved change: ``kubectl rollout undo`` to the approved revision, refusing if the Deployment
changed since it was approved."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from functions.models.rollback import ChangeRecord, PlannedChange
from functions.rollbacks.kubernetes_app.adapters.models import UndoPlan

if TYPE_CHECKING:
    from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts


def roll_back_deployment(change: PlannedChange, rollouts: DeploymentRollouts, now: datetime) -> ChangeRecord:
    plan = UndoPlan.model_validate(change.parameters)
    result = rollouts.undo(
        plan.namespace,
        plan.deployment,
        to_revision=plan.target_revision,
        expected_resource_version=plan.resource_version,
    )
    return ChangeRecord.of(
        change,
        "skipped" if result.skipped else "applied",
        result.message,
        now,
        parameters={"namespace": plan.namespace, "deployment": plan.deployment},
    )
