"""The schema rollback's steps against moto's RDS and CodeBuild (builds ended by local/aws/codebuild.py) at the API
level: what approvers are shown, what is refused before approval, and what each step does when run twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from pydantic import ValidationError

from functions.capabilities.builds import buildspec
from functions.errors import InvalidRollbackInput
from functions.models.rollback import RollbackRequest
from functions.rollbacks.database_schema import ROLLBACK_TYPE, job
from functions.rollbacks.database_schema.config import RUNBOOK_COMMANDS, DatabaseSchemaConfig, SchemaSettings
from functions.rollbacks.database_schema.job import MigrationRollbackFailed
from functions.rollbacks.database_schema.plan import JobProjectNotFound, plan_rollback
from functions.rollbacks.database_schema.snapshot import SnapshotNameTaken, follow_snapshot, take_snapshot
from local.aws.codebuild import BUILDS
from local.aws.patches import install_patches
from tests.support.requests import rollback_request

SOURCE = "skillancer-prod"
PROJECT = "skillancer-schema-rollback"
SECRET = "skillancer/production/database"
MIGRATION = "20261128093000_add_order_currency"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def aws() -> Iterator[None]:
    install_patches()  # the CodeBuild stand-in (idempotent; an emulator installs its own clock when it starts)
    BUILDS.clear()
    with mock_aws():
        yield
    BUILDS.clear()


@pytest.fixture
def rds(aws: None) -> Any:
    client = boto3.client("rds", region_name="us-east-1")
    client.create_db_instance(
        DBInstanceIdentifier=SOURCE, Engine="postgres", DBInstanceClass="db.r6g.xlarge", AllocatedStorage=100,
        MasterUsername="skillancer", MasterUserPassword="p@ss-word-1",
    )  # fmt: skip
    return client


@pytest.fixture
def codebuild(aws: None) -> Any:
    client = boto3.client("codebuild", region_name="us-east-1")
    client.create_project(
        name=PROJECT, source={"type": "S3", "location": "builds/source.zip"}, artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole="arn:aws:iam::123456789012:role/schema-rollback",
    )  # fmt: skip
    return client


def settings(connection: bool = True) -> SchemaSettings:
    instance: dict[str, Any] = {"project": PROJECT}
    if connection:
        instance["connection"] = {"store": "secretsmanager", "name": SECRET, "json_key": "DATABASE_URL"}
    return SchemaSettings.model_validate({"schema_instances": {SOURCE: instance}})


def request(**target: Any) -> RollbackRequest:
    return rollback_request(
        "database_schema", {"source_instance": SOURCE, "migration": MIGRATION, **target}, now=NOW,
        reason="the currency migration broke checkout", scenario="Schema migration failure",
    )  # fmt: skip


def test_the_plan_names_the_snapshot_the_migration_the_commands_and_the_project_and_locks_instance_and_secret(
    rds: Any, codebuild: Any
) -> None:
    # When a schema rollback is planned
    plan = plan_rollback(request(), rds, codebuild, settings())
    snapshot, run = plan.changes
    # Then approvers see the snapshot first, then the job with the migration, the runbook's commands and the project
    assert snapshot.target.startswith(f"RDS snapshot {SOURCE}-pre-schema-rollback-")
    assert MIGRATION in run.target and PROJECT in run.after
    assert all(command in run.detail for command in RUNBOOK_COMMANDS)
    assert f"--snapshot {snapshot.parameters['snapshot']}" in run.revert
    assert any("--accept-data-loss" in w for w in plan.warnings)
    # And the lock covers the instance and the applications' connection secret
    assert (snapshot.resource, run.resource) == (f"rds:db:{SOURCE}", f"connection:secretsmanager:{SECRET}")
    # And without a configured connection, the instance's schema is locked instead
    assert plan_rollback(request(), rds, codebuild, settings(connection=False)).changes[1].resource == (
        f"schema:{SOURCE}"
    )


def test_an_unconfigured_instance_or_a_missing_project_is_refused_before_approval(rds: Any, codebuild: Any) -> None:
    with pytest.raises(InvalidRollbackInput, match=r"target.source_instance: other-db is not configured"):
        plan_rollback(request(source_instance="other-db"), rds, codebuild, settings())
    codebuild.delete_project(name=PROJECT)
    with pytest.raises(JobProjectNotFound, match=f"CodeBuild project {PROJECT}"):
        plan_rollback(request(), rds, codebuild, settings())


@pytest.mark.parametrize(
    ("migration", "accepted"),
    [
        (MIGRATION, True),
        ("20261128093000_init", True),
        ("add_order_currency", False),  # no timestamp
        ("2026112809300_add", False),  # 13 digits
        ("20261128093000_Add-Currency", False),  # not as Prisma slugifies a name
        ('20261128093000_x"; drop table orders; --', False),
        ("20261128093000_" + "a" * 201, False),  # Prisma cuts names at 200 characters
    ],
)
def test_the_migration_must_be_named_as_prisma_names_its_folders(migration: str, accepted: bool) -> None:
    raw = {
        "service": "skillancer",
        "environment": "production",
        "reason": "broken",
        "requested_by": "sre@skillancer.com",
        "target": {"source_instance": SOURCE, "migration": migration},
    }
    if accepted:
        assert ROLLBACK_TYPE.parse_input(raw).target.migration == migration  # type: ignore[attr-defined]
    else:
        with pytest.raises(ValidationError, match=r"target\.migration"):
            ROLLBACK_TYPE.parse_input(raw)


def test_the_snapshot_is_taken_once_and_followed_until_available(rds: Any, codebuild: Any) -> None:
    change = plan_rollback(request(), rds, codebuild, settings()).changes[0]
    # When the snapshot step runs twice
    first = take_snapshot(change, rds, "exec-1", NOW)
    second = take_snapshot(change, rds, "exec-1", NOW)
    # Then one snapshot was taken, and it is available
    manual = rds.describe_db_snapshots(DBInstanceIdentifier=SOURCE, SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in manual] == [change.parameters["snapshot"]]
    assert first.parameters["snapshot"] == second.parameters["snapshot"]
    assert follow_snapshot(first, rds, NOW, timedelta(minutes=30)).available
    # And another rollback whose snapshot name is taken is refused
    with pytest.raises(SnapshotNameTaken):
        take_snapshot(change, rds, "exec-2", NOW)


def test_the_buildspec_runs_the_commands_as_written() -> None:
    commands = [*RUNBOOK_COMMANDS, "echo 'a: b' \"$MIGRATION\""]
    assert yaml.safe_load(buildspec(commands))["phases"]["build"]["commands"] == commands


def test_a_build_this_rollback_started_is_found_not_started_again(codebuild: Any) -> None:
    # Given a build of the project this rollback started (another token: the idempotency window passed)
    earlier = codebuild.start_build(
        projectName=PROJECT, environmentVariablesOverride=[{"name": "ROLLBACK_ID", "value": "exec-1"}]
    )["build"]["id"]
    # When the job is started for the rollback
    found = job.start_job(codebuild, project=PROJECT, migration=MIGRATION, commands=["true"], rollback_id="exec-1")
    # Then it is that build; another rollback gets its own, with the migration named
    assert found.build_id == earlier
    other = job.start_job(codebuild, project=PROJECT, migration=MIGRATION, commands=["true"], rollback_id="exec-2")
    assert other.build_id != earlier
    assert [b.variables.get("MIGRATION") for b in BUILDS.started(PROJECT)] == [None, MIGRATION]


def test_a_failed_build_is_an_error_naming_the_phase_the_logs_and_the_snapshot(rds: Any, codebuild: Any) -> None:
    # Given a planned job and a build that fails
    run = plan_rollback(request(), rds, codebuild, settings()).changes[1]
    BUILDS.script(PROJECT, status="FAILED", log="P3006")
    build = job.start_job(codebuild, project=PROJECT, migration=MIGRATION, commands=RUNBOOK_COMMANDS[:1] * 2,
                          rollback_id="exec-1")  # fmt: skip
    record = job.started(run, build, NOW)
    progress = job.follow_job(record, codebuild, NOW, timedelta(minutes=30))
    assert progress.ended and progress.status == "FAILED"
    # When its outcome is recorded, then the error names the phase, the logs and the snapshot to restore from
    with pytest.raises(MigrationRollbackFailed) as failed:
        job.outcome(run, progress, codebuild, NOW, timedelta(minutes=30))
    snapshot = run.parameters["snapshot"]
    assert "phase BUILD FAILED: Error while executing command: npx prisma migrate status" in str(failed.value)
    assert (
        f"logs: https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/{PROJECT}"
        in str(failed.value)
    )
    assert f"restore from snapshot {snapshot} (database_snapshot with" in str(failed.value)


def test_a_build_running_past_its_time_is_given_up_not_stopped(rds: Any, codebuild: Any) -> None:
    run = plan_rollback(request(), rds, codebuild, settings()).changes[1]
    BUILDS.script(PROJECT, reads_in_progress=100)
    build = job.start_job(codebuild, project=PROJECT, migration=MIGRATION, commands=["true"], rollback_id="exec-1")
    record = job.started(run, build, NOW - timedelta(hours=1))
    # When it is read after its time is up
    progress = job.follow_job(record, codebuild, NOW, timedelta(minutes=30))
    # Then the workflow stops waiting, and the outcome says it still runs and names the snapshot
    assert progress.ended and progress.timed_out and progress.status == "IN_PROGRESS"
    with pytest.raises(job.MigrationRollbackTimedOut, match=r"still IN_PROGRESS after 30 min .*restore from snapshot"):
        job.outcome(run, progress, codebuild, NOW, timedelta(minutes=30))


def test_the_configuration_defaults_to_the_runbook_and_counts_its_waits() -> None:
    config = DatabaseSchemaConfig.model_validate({"instances": {SOURCE: {"project": PROJECT}}})
    assert config.instances[SOURCE].commands == list(RUNBOOK_COMMANDS)
    assert config.own_states_seconds() == 1800 + 1800
    assert {p.reason != "" for p in config.permissions("TakeSnapshot") if any("*" in r for r in p.resources)} == {True}
    assert config.permissions("Unknown") == ()
