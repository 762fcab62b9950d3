"""The migration rollback job: a build of the team's CodeBuild project running the configured commands (the
runbook's ``prisma`` commands by default) with ``MIGRATION`` set to the approved migration. Started once per
rollback (a retry finds the build it started), followed until it ends, and read back as CodeBuild reports it:
status, the phase that failed, and the link to its logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.capabilities.builds import (
    BuildFacts,
    BuildProgress,
    follow_build,
    read_build,
    start_build_once,
)
from functions.capabilities.databases.restore_plan import duration_text
from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange

MIGRATION_VARIABLE = "MIGRATION"


class JobNotStarted(RollbackError):
    """The job would run without an available snapshot to go back to: it is not started."""


class MigrationRollbackFailed(RollbackError):
    """The migration rollback job ended without succeeding; the message names the snapshot to restore from."""


class MigrationRollbackTimedOut(RollbackError):
    """The migration rollback job was still running when its time was up; the message names the snapshot."""


def start_job(codebuild: Any, *, project: str, migration: str, commands: list[str], rollback_id: str) -> BuildFacts:
    """Starts the job, once per rollback (a retry finds the build it started)."""
    return start_build_once(
        codebuild, project, rollback_id, token="schema-rollback", variables={MIGRATION_VARIABLE: migration},
        commands=commands,
    )  # fmt: skip


def started(change: PlannedChange, build: BuildFacts, now: datetime) -> ChangeRecord:
    """The job's record while it runs: it may already be changing the schema, its outcome is not known yet."""
    parameters = change.parameters
    return ChangeRecord.of(
        change,
        "unconfirmed",
        f"build {build.build_id} of {parameters['project']} {build.status}; logs: {build.logs or 'none yet'}; "
        f"if it goes wrong, restore from snapshot {parameters['snapshot']}",
        now,
        parameters={"build_id": build.build_id, "logs": build.logs, "started_at": now.isoformat()},
    )


def follow_job(record: ChangeRecord, codebuild: Any, now: datetime, timeout: timedelta) -> BuildProgress:
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    return follow_build(codebuild, str(record.parameters["build_id"]), started_at, now, timeout)


def outcome(
    change: PlannedChange, progress: BuildProgress, codebuild: Any, now: datetime, timeout: timedelta
) -> ChangeRecord:
    """How the job ended, read back from CodeBuild: applied if it succeeded; otherwise an error that names the
    snapshot to restore from (the change step records it as the change's failure)."""
    parameters = change.parameters
    snapshot, source = parameters["snapshot"], parameters["source"]
    build = read_build(codebuild, progress.build_id)
    way_back = (
        f"logs: {build.logs or 'none'}; restore from snapshot {snapshot} "
        f"(database_snapshot with source_instance={source}, snapshot_id={snapshot})"
    )
    if not build.ended:
        raise MigrationRollbackTimedOut(
            f"build {build.build_id} is still {build.status} after {duration_text(timeout.total_seconds())}"
            f" (not stopped: stopping it midway could leave the schema half changed); {way_back}"
        )
    if build.status != "SUCCEEDED":
        raise MigrationRollbackFailed(
            f"migration rollback of {parameters['migration']} {build.status}"
            + (f" ({build.failure})" if build.failure else "")
            + f"; build {build.build_id}; {way_back}"
        )
    took = ""
    if build.started_at and build.ended_at:
        took = f" in {duration_text((build.ended_at - build.started_at).total_seconds())}"
    return ChangeRecord.of(
        change,
        "applied",
        f"build {build.build_id} SUCCEEDED{took}: {parameters['migration']} rolled back; logs: {build.logs}; "
        f"snapshot {snapshot} kept",
        now,
        parameters={"build_id": build.build_id, "logs": build.logs, "snapshot": snapshot},
    )
