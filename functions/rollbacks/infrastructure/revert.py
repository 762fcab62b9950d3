"""The revert of an ``infrastructure`` rollback: Terraform planned (and approved, and applied) again over the same
resources with the values in use before the rollback, and the ECS service rolled forward to the task definition it
ran before (the Terraform apply first, as in any infrastructure rollback)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.models.rollback import ChangeRecord
from functions.rollbacks.contract import NothingToRevert
from functions.rollbacks.infrastructure.kinds import ECS_KIND, TERRAFORM_KIND


def revert_target(changes: Sequence[ChangeRecord]) -> dict[str, Any]:
    target: dict[str, Any] = {}
    for change in changes:
        if change.status != "applied":
            continue
        if change.kind == TERRAFORM_KIND:
            applied_with = change.parameters.get("values", "previous")
            target |= {
                "terraform": True,
                "values": "current" if applied_with == "previous" else "previous",
                "targets": change.parameters["targets"],
            }
        elif change.kind == ECS_KIND:
            ran = str(change.parameters["from"]).rsplit("/", 1)[-1]  # family:revision of the task definition's ARN
            target |= {
                "ecs_cluster": change.parameters["cluster"],
                "ecs_service": change.parameters["service"],
                "to_task_definition": ran,
            }
    if not target:
        raise NothingToRevert("the rollback applied no Terraform plan and rolled back no ECS service")
    return target
