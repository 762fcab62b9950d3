"""Lambda entry points of ``infrastructure``: pre-checks (the Terraform plan included), the apply of the saved plan
and the ECS rollback, each started once, followed and recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from functions.adapters.aws import client
from functions.capabilities.builds import BuildProgress
from functions.change_steps import change_step
from functions.models.rollback import ChangeRecord, ChangeStepEvent, PlannedChange, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.rollbacks.infrastructure import ecs, plan, terraform
from functions.rollbacks.infrastructure.config import InfrastructureSettings
from functions.rollbacks.infrastructure.ecs import DeploymentProgress
from functions.settings import load_settings
from functions.steps import step


class PlanEvent(BaseModel):
    request: RollbackRequest


class FollowEvent(BaseModel):
    request: RollbackRequest
    record: ChangeRecord


class ApplyOutcomeEvent(ChangeStepEvent):
    model_config = ConfigDict(extra="forbid", frozen=True)

    progress: BuildProgress


class ServiceOutcomeEvent(ChangeStepEvent):
    model_config = ConfigDict(extra="forbid", frozen=True)

    progress: DeploymentProgress


@step
def run_prechecks(event: PlanEvent) -> RollbackPlan:
    settings = load_settings(InfrastructureSettings)
    result = plan.plan_rollback(event.request, client("codebuild"), client("s3"), client("ecs"), settings)
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result


@change_step
def apply_terraform(event: ChangeStepEvent) -> ChangeRecord:
    if event.change.skip:
        return ChangeRecord.of(event.change, "skipped", "nothing to apply", datetime.now(UTC))
    return terraform.start_apply(
        event.change, client("codebuild"), client("s3"), event.request.rollback_id, datetime.now(UTC)
    )


@step
def check_terraform(event: FollowEvent) -> BuildProgress:
    timeout = timedelta(seconds=load_settings(InfrastructureSettings).apply_timeout_seconds)
    return terraform.follow_apply(event.record, client("codebuild"), datetime.now(UTC), timeout)


@change_step
def record_terraform(event: ApplyOutcomeEvent) -> ChangeRecord:
    return terraform.apply_outcome(event.change, event.progress, client("codebuild"), datetime.now(UTC))


@change_step
def roll_back_service(event: ChangeStepEvent) -> ChangeRecord:
    return ecs.roll_back(event.change, client("ecs"), datetime.now(UTC))


class FollowServiceEvent(FollowEvent):
    change: PlannedChange


@step
def check_service(event: FollowServiceEvent) -> DeploymentProgress:
    timeout = timedelta(seconds=load_settings(InfrastructureSettings).deployment_timeout_seconds)
    parameters = event.change.parameters
    return ecs.follow(
        event.record,
        client("ecs"),
        str(parameters.get("cluster")),
        str(parameters.get("service")),
        datetime.now(UTC),
        timeout,
    )


@change_step
def record_service(event: ServiceOutcomeEvent) -> ChangeRecord:
    return ecs.outcome(event.change, event.progress, datetime.now(UTC))
