"""The migration rollback job: a build of the team's CodeBuild project running the configured commands (the
runbook's ``prisma`` commands by default) with ``MIGRATION`` set to the approved migration. Started once per
rollback (a retry finds the build it started), followed until it ends, and read back as CodeBuild reports it:
status, the phase that failed, and the link to its logs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.capabilities.databases.restore_plan import duration_text
from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange, StrictModel

MIGRATION_VARIABLE = "MIGRATION"
ROLLBACK_ID_VARIABLE = "ROLLBACK_ID"
ENDED = frozenset({"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"})
BUILDS_SEARCHED = 100  # a project's most recent builds, searched for this rollback's


class JobNotStarted(RollbackError):
    """The job would run without an available snapshot to go back to: it is not started."""


class MigrationRollbackFailed(RollbackError):
    """The migration rollback job ended without succeeding; the message names the snapshot to restore from."""


class MigrationRollbackTimedOut(RollbackError):
    """The migration rollback job was still running when its time was up; the message names the snapshot."""


class BuildFacts(StrictModel):
    build_id: str
    status: str
    ended: bool
    logs: str | None
    failure: str | None
    started_at: datetime | None
    ended_at: datetime | None


class JobProgress(StrictModel):
    build_id: str
    status: str
    ended: bool
    timed_out: bool
    logs: str | None


def buildspec(commands: list[str]) -> str:
    """A buildspec running ``commands`` in order in the build phase, stopping at the first that fails (each
    command a JSON string: a valid double-quoted YAML scalar)."""
    lines = ["version: 0.2", "phases:", "  build:", "    on-failure: ABORT", "    commands:"]
    return "\n".join([*lines, *(f"      - {json.dumps(command)}" for command in commands)]) + "\n"


def facts_of(build: dict[str, Any]) -> BuildFacts:
    status = str(build.get("buildStatus", "IN_PROGRESS"))
    failed = [p for p in build.get("phases") or [] if p.get("phaseStatus") not in (None, "SUCCEEDED")]
    failure = None
    if failed:
        phase = failed[0]
        reasons = "; ".join(str(c.get("message") or c.get("statusCode")) for c in phase.get("contexts") or [])
        failure = f"phase {phase.get('phaseType')} {phase.get('phaseStatus')}" + (f": {reasons}" if reasons else "")
    return BuildFacts(
        build_id=str(build["id"]),
        status=status,
        ended=status in ENDED,
        logs=(build.get("logs") or {}).get("deepLink"),
        failure=failure,
        started_at=_moment(build.get("startTime")),
        ended_at=_moment(build.get("endTime")),
    )


def read_build(codebuild: Any, build_id: str) -> BuildFacts:
    builds = codebuild.batch_get_builds(ids=[build_id])["builds"]
    if not builds:
        raise MigrationRollbackFailed(f"CodeBuild has no build {build_id}")
    return facts_of(builds[0])


def find_build(codebuild: Any, project: str, rollback_id: str) -> BuildFacts | None:
    """The build of ``project`` this rollback started, if any (its ``ROLLBACK_ID`` variable says so)."""
    ids = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING").get("ids", [])
    if not ids:
        return None
    for build in codebuild.batch_get_builds(ids=ids[:BUILDS_SEARCHED])["builds"]:
        variables = (build.get("environment") or {}).get("environmentVariables") or []
        if any(v.get("name") == ROLLBACK_ID_VARIABLE and v.get("value") == rollback_id for v in variables):
            return facts_of(build)
    return None


def start_job(codebuild: Any, *, project: str, migration: str, commands: list[str], rollback_id: str) -> BuildFacts:
    """Starts the job, once per rollback: a build this rollback started is returned instead, and the idempotency
    token makes the SDK's own retries of an unanswered start return the same build."""
    existing = find_build(codebuild, project, rollback_id)
    if existing is not None:
        return existing
    build = codebuild.start_build(
        projectName=project,
        environmentVariablesOverride=[
            {"name": MIGRATION_VARIABLE, "value": migration, "type": "PLAINTEXT"},
            {"name": ROLLBACK_ID_VARIABLE, "value": rollback_id, "type": "PLAINTEXT"},
        ],
        buildspecOverride=buildspec(commands),
        idempotencyToken=str(uuid.uuid5(uuid.NAMESPACE_URL, f"schema-rollback/{rollback_id}")),
    )["build"]
    return facts_of(build)


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


def follow_job(record: ChangeRecord, codebuild: Any, now: datetime, timeout: timedelta) -> JobProgress:
    build = read_build(codebuild, str(record.parameters["build_id"]))
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    timed_out = not build.ended and now - started_at > timeout
    return JobProgress(
        build_id=build.build_id,
        status=build.status,
        ended=build.ended or timed_out,
        timed_out=timed_out,
        logs=build.logs,
    )


def outcome(
    change: PlannedChange, progress: JobProgress, codebuild: Any, now: datetime, timeout: timedelta
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


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
