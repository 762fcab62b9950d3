"""Lambda entry points of ``database_schema``: pre-checks, take and follow the snapshot, start, follow and record
the migration rollback job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from functions.adapters.aws import client
from functions.capabilities.builds import BuildProgress
from functions.change_steps import change_step
from functions.models.rollback import ChangeRecord, ChangeStepEvent, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.rollbacks.database_schema import job, plan, snapshot
from functions.rollbacks.database_schema.config import SchemaSettings
from functions.rollbacks.database_schema.job import JobNotStarted
from functions.rollbacks.database_schema.snapshot import SnapshotProgress
from functions.settings import load_settings
from functions.steps import step


class PlanEvent(BaseModel):
    request: RollbackRequest


class FollowSnapshotEvent(BaseModel):
    request: RollbackRequest
    snapshot: ChangeRecord


class StartJobEvent(ChangeStepEvent):
    """The job starts only with the snapshot available."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    snapshot: SnapshotProgress


class FollowJobEvent(BaseModel):
    request: RollbackRequest
    job: ChangeRecord


class JobOutcomeEvent(ChangeStepEvent):
    model_config = ConfigDict(extra="forbid", frozen=True)

    job: BuildProgress


@step
def run_prechecks(event: PlanEvent) -> RollbackPlan:
    result = plan.plan_rollback(event.request, client("rds"), client("codebuild"), load_settings(SchemaSettings))
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result


@change_step
def take_snapshot(event: ChangeStepEvent) -> ChangeRecord:
    return snapshot.take_snapshot(event.change, client("rds"), event.request.rollback_id, datetime.now(UTC))


@step
def check_snapshot(event: FollowSnapshotEvent) -> SnapshotProgress:
    timeout = timedelta(seconds=load_settings(SchemaSettings).snapshot_timeout_seconds)
    return snapshot.follow_snapshot(event.snapshot, client("rds"), datetime.now(UTC), timeout)


@change_step
def start_migration_rollback(event: StartJobEvent) -> ChangeRecord:
    parameters = event.change.parameters
    if not event.snapshot.available or event.snapshot.snapshot != parameters["snapshot"]:
        raise JobNotStarted(f"snapshot {parameters['snapshot']} is not available: the migration rollback waits for it")
    build = job.start_job(
        client("codebuild"),
        project=str(parameters["project"]),
        migration=str(parameters["migration"]),
        commands=[str(c) for c in parameters["commands"]],  # type: ignore[union-attr]
        rollback_id=event.request.rollback_id,
    )
    logger.info("migration rollback started", extra={"build_id": build.build_id})
    return job.started(event.change, build, datetime.now(UTC))


@step
def check_migration_rollback(event: FollowJobEvent) -> BuildProgress:
    timeout = timedelta(seconds=load_settings(SchemaSettings).job_timeout_seconds)
    return job.follow_job(event.job, client("codebuild"), datetime.now(UTC), timeout)


@change_step
def record_migration_rollback(event: JobOutcomeEvent) -> ChangeRecord:
    timeout = timedelta(seconds=load_settings(SchemaSettings).job_timeout_seconds)
    return job.outcome(event.change, event.job, client("codebuild"), datetime.now(UTC), timeout)
