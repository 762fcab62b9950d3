"""The team's smoke tests as a CodeBuild build: started once per rollback (an idempotency token from the
rollback, and the build found again from the previous sample), then read until it ends."""

from __future__ import annotations

import hashlib
from typing import Any

from functions.models.rollback import SmokeCheck, SmokeTest

ENDED_WELL = "SUCCEEDED"


def smoke_check(
    codebuild: Any, test: SmokeTest, *, rollback_id: str, environment: str, previous: SmokeCheck | None
) -> SmokeCheck:
    if previous is None:
        build = codebuild.start_build(
            projectName=test.project,
            idempotencyToken=hashlib.sha256(f"smoke/{rollback_id}".encode()).hexdigest()[:64],
            buildspecOverride=buildspec(test.command),
            environmentVariablesOverride=[
                {"name": "ROLLBACK_ENVIRONMENT", "value": environment, "type": "PLAINTEXT"},
                {"name": "ROLLBACK_ID", "value": rollback_id, "type": "PLAINTEXT"},
            ],
        )["build"]
    else:
        (build,) = codebuild.batch_get_builds(ids=[previous.build_id])["builds"]
    status = str(build.get("buildStatus", "IN_PROGRESS"))
    failed = [p for p in build.get("phases", []) if p.get("phaseStatus") not in (None, "SUCCEEDED")]
    detail = (
        "passed" if status == ENDED_WELL
        else "running" if status == "IN_PROGRESS"
        else f"{failed[-1]['phaseType']} phase {failed[-1]['phaseStatus']}" if failed else status
    )  # fmt: skip
    logs = (build.get("logs") or {}).get("deepLink")
    return SmokeCheck(
        project=test.project,
        build_id=str(build["id"]),
        status=status,
        logs=str(logs) if logs else None,
        healthy=status == ENDED_WELL,
        detail=detail + (f"; log: {logs}" if logs and status not in ("IN_PROGRESS", ENDED_WELL) else ""),
    )


def buildspec(command: str) -> str:
    """A one-command buildspec (YAML), the command as a literal block so nothing in it is re-interpreted."""
    indented = "\n".join("          " + line for line in command.splitlines())
    return f"version: 0.2\nphases:\n  build:\n    commands:\n      - |\n{indented}\n"
