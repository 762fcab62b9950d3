"""Lambda entry points of the test-only ``ssm_parameter`` type."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from functions.adapters.aws import client
from functions.change_steps import change_step
from functions.models.rollback import ChangeRecord, ChangeStepEvent, RollbackPlan, RollbackRequest
from functions.steps import step
from tests.rollback_types.ssm_parameter import execute
from tests.rollback_types.ssm_parameter import plan as planning


class PlanEvent(BaseModel):
    request: RollbackRequest


@step
def plan(event: PlanEvent) -> RollbackPlan:
    return planning.plan_rollback(event.request, client("ssm"))


@change_step
def restore(event: ChangeStepEvent) -> ChangeRecord:
    return execute.restore(event.change, client("ssm"), datetime.now(UTC))
