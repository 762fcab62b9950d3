"""Terraform with the previous values file (runbook procedure 5), in the team's CodeBuild projects.

The plan build runs ``terraform plan -var-file=<previous values> -target=...  -out=tfplan`` and ``terraform show
-json tfplan``, and puts both the saved plan and its JSON document under ``<prefix>/<rollback id>/`` in the plans
bucket (versioned). The pre-checks wait for it and read the JSON document (Terraform's JSON plan format) into the
summary approvers see, with the saved plan's version id and SHA-256. After the approval, the apply build fetches
exactly that version, checks its SHA-256 and runs ``terraform apply tfplan``: what is applied is what was approved,
and Terraform itself refuses a saved plan whose state has moved on."""

from __future__ import annotations

import hashlib
import shlex
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.capabilities.builds import (
    BuildProgress,
    follow_build,
    read_build,
    start_build_once,
)
from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange
from functions.rollbacks.infrastructure.config import TerraformConfig
from functions.rollbacks.infrastructure.tfplan import PlanSummary, summarize

SAVED_PLAN = "tfplan"
PLAN_DOCUMENT = "plan.json"


class PlanFailed(RollbackError):
    """The terraform plan build did not succeed (or did not end in time): nothing to approve."""


class PlanDestroysResources(RollbackError):
    """The saved plan destroys resources and the approval does not cover it (allow_destroy)."""


class SavedPlanChanged(RollbackError):
    """The saved plan in the bucket is not the one approvers approved."""


class ApplyFailed(RollbackError):
    """terraform apply did not succeed, or did not end in time."""


def plan_location(config: TerraformConfig, rollback_id: str) -> str:
    return f"{config.plans_prefix}/{rollback_id}"


def plan_arguments(config: TerraformConfig, targets: list[str], values: str) -> str:
    """``-var-file=... -target=...`` of a plan with the ``previous`` or the ``current`` values."""
    var_file = config.values_file(values)
    return " ".join(
        [*([f"-var-file={shlex.quote(var_file)}"] if var_file else []), *(shlex.quote(f"-target={t}") for t in targets)]
    )


def plan_commands(config: TerraformConfig, targets: list[str], values: str = "previous") -> list[str]:
    destination = '"s3://$PLAN_BUCKET/$PLAN_PREFIX'
    return [
        "terraform init -input=false",
        f"terraform plan -input=false {plan_arguments(config, targets, values)} -out={SAVED_PLAN}",
        f"terraform show -json {SAVED_PLAN} > {PLAN_DOCUMENT}",
        f'aws s3 cp {SAVED_PLAN} {destination}/{SAVED_PLAN}"',
        f'aws s3 cp {PLAN_DOCUMENT} {destination}/{PLAN_DOCUMENT}"',
    ]


def apply_commands() -> list[str]:
    return [
        "terraform init -input=false",
        f'aws s3api get-object --bucket "$PLAN_BUCKET" --key "$PLAN_PREFIX/{SAVED_PLAN}" '
        f'--version-id "$PLAN_VERSION_ID" {SAVED_PLAN}',
        f'echo "$PLAN_SHA256  {SAVED_PLAN}" | sha256sum -c -',
        f"terraform apply -input=false {SAVED_PLAN}",
    ]


class SavedPlan(PlanSummary):
    bucket: str
    key: str
    version_id: str
    sha256: str
    build_id: str
    logs: str | None


def run_plan(
    codebuild: Any,
    s3: Any,
    config: TerraformConfig,
    targets: list[str],
    rollback_id: str,
    *,
    values: str = "previous",
    timeout: float,
    poll: float,
    sleep: Any = time.sleep,
) -> SavedPlan:
    """Starts the plan build (once per rollback), waits for it to end, and reads back the saved plan."""
    prefix = plan_location(config, rollback_id)
    build = start_build_once(
        codebuild,
        config.plan_project,
        rollback_id,
        token="terraform-plan",
        variables={"PLAN_BUCKET": config.plans_bucket, "PLAN_PREFIX": prefix},
        commands=plan_commands(config, targets, values),
    )
    deadline = time.monotonic() + timeout
    while not build.ended:
        if time.monotonic() > deadline:
            raise PlanFailed(
                f"terraform plan (build {build.build_id}) still {build.status} after {timeout:g} s; logs: {build.logs}"
            )
        sleep(poll)
        build = read_build(codebuild, build.build_id)
    if build.status != "SUCCEEDED":
        raise PlanFailed(
            f"terraform plan {build.status}"
            + (f" ({build.failure})" if build.failure else "")
            + f"; build {build.build_id}; logs: {build.logs}"
        )
    document = s3.get_object(Bucket=config.plans_bucket, Key=f"{prefix}/{PLAN_DOCUMENT}")["Body"].read()
    saved = s3.get_object(Bucket=config.plans_bucket, Key=f"{prefix}/{SAVED_PLAN}")
    summary = summarize(document)
    return SavedPlan(
        **summary.model_dump(),
        bucket=config.plans_bucket,
        key=f"{prefix}/{SAVED_PLAN}",
        version_id=str(saved.get("VersionId") or "null"),
        sha256=hashlib.sha256(saved["Body"].read()).hexdigest(),
        build_id=build.build_id,
        logs=build.logs,
    )


def start_apply(change: PlannedChange, codebuild: Any, s3: Any, rollback_id: str, now: datetime) -> ChangeRecord:
    """Refuses a destroying plan the approval does not cover and a saved plan that is not the approved one; then
    starts the apply build of exactly that saved plan (its version and SHA-256, checked again in the build)."""
    parameters = change.parameters
    if parameters.get("destroys") and not parameters.get("allow_destroy"):
        raise PlanDestroysResources(
            f"the plan destroys {parameters.get('destroyed')}; the approval does not cover destroying resources "
            "(start again with allow_destroy once that is intended); nothing was applied"
        )
    bucket, key, version_id = str(parameters["bucket"]), str(parameters["key"]), str(parameters["version_id"])
    found = s3.get_object(Bucket=bucket, Key=key, **({} if version_id == "null" else {"VersionId": version_id}))
    sha256 = hashlib.sha256(found["Body"].read()).hexdigest()
    if sha256 != parameters["sha256"]:
        raise SavedPlanChanged(
            f"s3://{bucket}/{key} (version {version_id}) has SHA-256 {sha256}, approvers approved "
            f"{parameters['sha256']}; nothing was applied"
        )
    build = start_build_once(
        codebuild,
        str(parameters["apply_project"]),
        rollback_id,
        token="terraform-apply",
        variables={
            "PLAN_BUCKET": bucket,
            "PLAN_PREFIX": key.rsplit("/", 1)[0],
            "PLAN_VERSION_ID": version_id,
            "PLAN_SHA256": sha256,
        },
        commands=apply_commands(),
    )
    return ChangeRecord.of(
        change,
        "unconfirmed",
        f"terraform apply of saved plan {sha256[:12]} (build {build.build_id}) {build.status}; logs: "
        f"{build.logs or 'none yet'}",
        now,
        parameters={"build_id": build.build_id, "logs": build.logs, "started_at": now.isoformat(), "sha256": sha256},
    )


def follow_apply(record: ChangeRecord, codebuild: Any, now: datetime, timeout: timedelta) -> BuildProgress:
    if record.status == "skipped":
        return BuildProgress(build_id="none", status="SKIPPED", ended=True, timed_out=False, logs=None)
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    return follow_build(codebuild, str(record.parameters["build_id"]), started_at, now, timeout)


def apply_outcome(change: PlannedChange, progress: BuildProgress, codebuild: Any, now: datetime) -> ChangeRecord:
    if change.skip:
        return ChangeRecord.of(change, "skipped", "nothing to apply", now)
    build = read_build(codebuild, progress.build_id)
    if not build.ended:
        raise ApplyFailed(f"terraform apply (build {build.build_id}) still {build.status}; logs: {build.logs}")
    if build.status != "SUCCEEDED":
        raise ApplyFailed(
            f"terraform apply {build.status}"
            + (f" ({build.failure})" if build.failure else "")
            + f"; build {build.build_id}; logs: {build.logs}"
        )
    return ChangeRecord.of(
        change,
        "applied",
        f"terraform apply of saved plan {str(change.parameters['sha256'])[:12]} SUCCEEDED (build {build.build_id}); "
        f"logs: {build.logs}",
        now,
        parameters={**change.parameters, "build_id": build.build_id, "logs": build.logs},
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
