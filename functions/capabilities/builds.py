"""CodeBuild builds that a rollback type starts and follows: the buildspec of a list of commands, a build as
CodeBuild reports it (status, the phase that failed, the link to its logs), and the build a rollback started (its
``ROLLBACK_ID`` variable says so), for a retried start to find instead of starting another."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.errors import RollbackError
from functions.models.rollback import StrictModel

ROLLBACK_ID_VARIABLE = "ROLLBACK_ID"
ENDED = frozenset({"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"})
BUILDS_SEARCHED = 100  # a project's most recent builds, searched for this rollback's


class BuildNotFound(RollbackError):
    """CodeBuild has no such build."""


class BuildFacts(StrictModel):
    build_id: str
    status: str
    ended: bool
    logs: str | None
    failure: str | None
    started_at: datetime | None
    ended_at: datetime | None


class BuildProgress(StrictModel):
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
        raise BuildNotFound(f"CodeBuild has no build {build_id}")
    return facts_of(builds[0])


def find_build(codebuild: Any, project: str, rollback_id: str) -> BuildFacts | None:
    """The build of ``project`` this rollback started, if any."""
    ids = codebuild.list_builds_for_project(projectName=project, sortOrder="DESCENDING").get("ids", [])
    if not ids:
        return None
    for build in codebuild.batch_get_builds(ids=ids[:BUILDS_SEARCHED])["builds"]:
        variables = (build.get("environment") or {}).get("environmentVariables") or []
        if any(v.get("name") == ROLLBACK_ID_VARIABLE and v.get("value") == rollback_id for v in variables):
            return facts_of(build)
    return None


def start_build_once(
    codebuild: Any, project: str, rollback_id: str, *, token: str, variables: dict[str, str], commands: list[str]
) -> BuildFacts:
    """Starts a build of ``project`` running ``commands`` with ``variables`` (and ``ROLLBACK_ID``), once per
    rollback: a build this rollback started is returned instead, and the idempotency token (from ``token`` and the
    rollback id) makes the SDK's own retries of an unanswered start return the same build."""
    existing = find_build(codebuild, project, rollback_id)
    if existing is not None:
        return existing
    overrides = [{"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()]
    overrides.append({"name": ROLLBACK_ID_VARIABLE, "value": rollback_id, "type": "PLAINTEXT"})
    build = codebuild.start_build(
        projectName=project,
        environmentVariablesOverride=overrides,
        buildspecOverride=buildspec(commands),
        idempotencyToken=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{token}/{rollback_id}")),
    )["build"]
    return facts_of(build)


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def follow_build(
    codebuild: Any, build_id: str, started_at: datetime, now: datetime, timeout: timedelta
) -> BuildProgress:
    """Where a build stands; one still running past ``timeout`` counts as ended, timed out."""
    build = read_build(codebuild, build_id)
    timed_out = not build.ended and now - started_at > timeout
    return BuildProgress(
        build_id=build.build_id, status=build.status, ended=build.ended or timed_out, timed_out=timed_out,
        logs=build.logs,
    )  # fmt: skip
