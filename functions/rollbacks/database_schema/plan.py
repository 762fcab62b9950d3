"""Pre-checks of a schema rollback: the instance exists and is available (a snapshot needs it), the job's
CodeBuild project exists; then the two changes approvers approve: the snapshot taken first, and the migration
rollback job (the migration, the commands, the project)."""

from __future__ import annotations

from typing import Any

from functions.capabilities.databases import instances
from functions.errors import InvalidRollbackInput, RollbackError
from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.database_schema.config import SchemaSettings
from functions.rollbacks.database_schema.input import DatabaseSchemaTarget
from functions.rollbacks.database_schema.job import MIGRATION_VARIABLE
from functions.rollbacks.database_schema.snapshot import snapshot_name

SNAPSHOT_KIND = "database.snapshot"
JOB_KIND = "database.schema-rollback"


class InstanceNotAvailable(InvalidRollbackInput):
    """The instance is not available: it cannot be snapshotted now."""


class JobProjectNotFound(RollbackError):
    """The CodeBuild project configured to run the migration rollback does not exist."""


def plan_rollback(request: RollbackRequest, rds: Any, codebuild: Any, settings: SchemaSettings) -> RollbackPlan:
    target = DatabaseSchemaTarget.model_validate(request.target)
    configured = settings.instance(target.source_instance)
    source = instances.describe_instance(rds, target.source_instance)
    if source.status != "available":
        raise InstanceNotAvailable(
            f"target.source_instance: {source.identifier} is {source.status}; a snapshot needs it available"
        )
    if not codebuild.batch_get_projects(names=[configured.project]).get("projects"):
        raise JobProjectNotFound(
            f"CodeBuild project {configured.project}, configured to run {source.identifier}'s migration rollback, "
            "does not exist"
        )
    snapshot = snapshot_name(source.identifier, request.rollback_id)
    commands = "; ".join(configured.commands)
    take_snapshot = PlannedChange(
        target=f"RDS snapshot {snapshot}",
        kind=SNAPSHOT_KIND,
        before=f"none; {source.identifier} is {source.status}",
        after=f"manual snapshot of {source.identifier}, available before the migration rollback starts",
        detail=f"the way back if the migration rollback goes wrong ({source.allocated_storage_gib} GiB); "
        f"{source.identifier} is not otherwise touched",
        revert=f"aws rds delete-db-snapshot --db-snapshot-identifier {snapshot} (once nobody needs it)",
        resource=f"rds:db:{source.identifier}",
        parameters={"source": source.identifier, "snapshot": snapshot},
    )
    lock = f"connection:{configured.connection.lock_key}" if configured.connection else f"schema:{source.identifier}"
    run_job = PlannedChange(
        target=f"schema of {source.identifier}: migration {target.migration}",
        kind=JOB_KIND,
        before=f"{target.migration} applied",
        after=f"{target.migration} rolled back (CodeBuild project {configured.project})",
        detail=f"runs {commands} with {MIGRATION_VARIABLE}={target.migration}, stopping at the first failure; "
        f"logs linked in the report",
        revert=f"restore snapshot {snapshot} into a new instance: rollback start database_snapshot "
        f"--instance {source.identifier} --snapshot {snapshot}",
        resource=lock,
        parameters={
            "source": source.identifier,
            "migration": target.migration,
            "project": configured.project,
            "commands": list(configured.commands),
            "snapshot": snapshot,
        },
    )
    warnings = [
        f"The job changes {source.identifier}'s schema in place: the way back is snapshot {snapshot}, taken first "
        "(a restore into a new instance, and the writes made since are not in it)."
    ]
    if any("--accept-data-loss" in command for command in configured.commands):
        warnings.append(
            "prisma db push --accept-data-loss drops what the previous schema does not have (columns, tables) "
            "with their data."
        )
    return RollbackPlan(
        changes=[take_snapshot, run_job],
        feature_flag_options=request.feature_flags,
        summary=f"snapshot {source.identifier} as {snapshot}, then roll back migration {target.migration} with "
        f"CodeBuild project {configured.project}",
        warnings=warnings,
    )
