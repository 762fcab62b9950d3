"""Schema rollbacks end to end on the emulators (runbook procedure 2a): moto's RDS and CodeBuild (its builds ended
by the stand-in, local/aws/codebuild.py), the real handlers and the synthesized state machine.

Approve -> a snapshot, available before the migration rollback job starts; the job (a CodeBuild build of the
configured project with the migration named) recorded with its logs; the report lists both. A job that fails ->
FAILED, the cause and the report name the snapshot to restore from, lock released, notified. A retried start finds
its build; a bad migration name is refused at validation."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local import approver
from local.aws.codebuild import BUILDS
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized

RC5 = "registry.example.com/skillancer-api:v1.0.0-rc.5"
SOURCE = "skillancer-prod"
PROJECT = "skillancer-schema-rollback"
MIGRATION = "20261128093000_add_order_currency"
RUNBOOK_COMMANDS = [
    "npx prisma migrate status",
    'npx prisma migrate resolve --rolled-back "$MIGRATION"',
    "npx prisma db push --accept-data-loss",
]
ON_CALL, LEAD = "oncall-primary@skillancer.com", "eng-lead@skillancer.com"


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """The pipeline, the service healthy, skillancer-prod in RDS and the team's CodeBuild project."""
    with LocalPipeline(synthesized) as running:
        running.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5)
        running.kube.settle()
        boto3.client("rds").create_db_instance(
            DBInstanceIdentifier=SOURCE,
            Engine="postgres",
            DBInstanceClass="db.r6g.xlarge",
            AllocatedStorage=100,
            MasterUsername="skillancer",
            MasterUserPassword="not-a-real-password",
        )
        boto3.client("codebuild").create_project(
            name=PROJECT,
            source={"type": "S3", "location": "skillancer-builds/api-source.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
                "environmentVariables": [{"name": "NODE_ENV", "value": "production", "type": "PLAINTEXT"}],
            },
            serviceRole="arn:aws:iam::123456789012:role/skillancer-schema-rollback",
        )
        yield running


def schema_input(pipeline: LocalPipeline, **target: Any) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": {"source_instance": SOURCE, "migration": MIGRATION, **target},
        "reason": "the currency migration broke checkout",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Schema migration failure",
        "severity": "P1",
        "health_urls": [pipeline.health.url_for("skillancer-api")],
    }


def start(pipeline: LocalPipeline, name: str, payload: dict[str, Any]) -> str:
    arn = pipeline.deployment.state_machine_arn("DatabaseSchema")
    return str(pipeline.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])


def approve_and_wait(pipeline: LocalPipeline, execution: str) -> dict[str, Any]:
    pipeline.wait_for_state(execution, "Request approval")
    for email in (ON_CALL, LEAD):
        assert approver.decide(pipeline.link_for(email), "approve").status == 200
    return pipeline.wait(execution, timeout=120)  # the machine may be busy: snapshot, job and verification polls


def snapshots() -> list[dict[str, Any]]:
    """The instance's manual snapshots (moto also keeps an automated one)."""
    rds = boto3.client("rds")
    found: list[dict[str, Any]] = rds.describe_db_snapshots(DBInstanceIdentifier=SOURCE, SnapshotType="manual")[
        "DBSnapshots"
    ]
    return found


def task_events(pipeline: LocalPipeline, execution: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(state, event type, output) of every state exit, in order."""
    found = []
    for event in pipeline.aws.execution_events(execution):
        details = event.get("stateExitedEventDetails")
        if details:
            found.append((details["name"], event["type"], json.loads(details.get("output") or "{}")))
    return found


def test_the_snapshot_is_available_before_the_job_runs_and_the_report_links_the_jobs_logs(
    pipeline: LocalPipeline,
) -> None:
    # Given a job that runs for a while (two reads in progress) and then succeeds
    BUILDS.script(PROJECT, status="SUCCEEDED", log="Migration marked as rolled back.\n", reads_in_progress=2)
    # When a schema rollback of the migration is started and on-call and lead approve
    execution = start(pipeline, "schema-1", schema_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval")
    page = approver.view(pipeline.link_for(ON_CALL))
    result = approve_and_wait(pipeline, execution)
    # Then approvers saw the instance, the migration, the commands, the project and the way back
    way_back = f"the way back is snapshot {SOURCE}-pre-schema-rollback-"
    for shown in (SOURCE, MIGRATION, "npx prisma db push --accept-data-loss", PROJECT, way_back):
        assert shown in page.text, shown
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    # And a snapshot of the instance was taken, and it was available before the job was started
    (snapshot,) = snapshots()
    name = snapshot["DBSnapshotIdentifier"]
    assert name.startswith(f"{SOURCE}-pre-schema-rollback-") and snapshot["Status"] == "available"
    exits = task_events(pipeline, execution)
    started = next(i for i, (state, _, _) in enumerate(exits) if state == "Start migration rollback")
    checks = [output for state, _, output in exits[:started] if state == "Check snapshot"]
    assert checks and checks[-1]["snapshot"] == {**checks[-1]["snapshot"], "snapshot": name, "available": True}
    # And one build of the configured project ran the runbook's commands with the migration named
    (build,) = BUILDS.started(PROJECT)
    assert build.commands == RUNBOOK_COMMANDS
    assert build.variables["MIGRATION"] == MIGRATION and build.variables["NODE_ENV"] == "production"
    # And the workflow waited for the build to end (two reads in progress, then the end)
    assert [state for state, _, _ in exits].count("Check migration rollback") == 3
    # And the report lists the snapshot and the job, with the build and the link to its logs
    taken, job = json.loads(result["output"])["changes"]
    assert (taken["target"], taken["status"]) == (f"RDS snapshot {name}", "applied")
    assert job["target"] == f"schema of {SOURCE}: migration {MIGRATION}" and job["status"] == "applied"
    assert f"build {build.build_id} SUCCEEDED" in job["detail"]
    assert (
        f"logs: https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/{PROJECT}"
        in job["detail"]
    )
    recorded = pipeline.recorded_report("schema-1")
    assert recorded is not None and [c["status"] for c in recorded["changes"]] == ["applied", "applied"]
    assert pipeline.lock_holder() is None


def test_a_failed_job_fails_the_rollback_naming_the_snapshot_to_restore_from(pipeline: LocalPipeline) -> None:
    # Given a job whose last command fails
    BUILDS.script(PROJECT, status="FAILED", log="Error: P3006 Migration failed to apply cleanly.\n")
    # When the schema rollback is approved
    execution = start(pipeline, "schema-fails", schema_input(pipeline))
    result = approve_and_wait(pipeline, execution)
    # Then it fails at the job, and the cause names the failed phase, the logs and the snapshot to restore from
    (snapshot,) = snapshots()
    name = snapshot["DBSnapshotIdentifier"]
    assert (result["status"], result["error"]) == ("FAILED", "MigrationRollbackFailed"), result
    assert "FAILED (phase BUILD FAILED: Error while executing command: npx prisma db push" in result["cause"]
    assert (
        f"restore from snapshot {name} (database_snapshot with source_instance={SOURCE}, snapshot_id={name})"
        in result["cause"]
    )
    assert "logs: https://console.aws.amazon.com/cloudwatch/" in result["cause"]
    # And the report records the snapshot as taken and the job as failed, naming the snapshot
    report = pipeline.recorded_report("schema-fails")
    assert report is not None and report["status"] == "FAILED"
    taken, job = report["changes"]
    assert (taken["status"], job["status"]) == ("applied", "failed")
    assert f"restore from snapshot {name}" in job["detail"]
    # And the lock is released and the war room told, the report PARTIAL (something may have changed)
    assert pipeline.lock_holder() is None
    subjects = [e.subject for e in pipeline.notifications.fetch() if "Rollback" in e.subject]
    assert any("FAILED" in s and "PARTIAL" in s for s in subjects), subjects
    assert "Verify service health" not in pipeline.states_entered(execution)


def test_a_retried_start_finds_the_build_it_started(pipeline: LocalPipeline) -> None:
    # Given an approved schema rollback whose job is still running
    BUILDS.script(PROJECT, status="SUCCEEDED", reads_in_progress=10_000)
    execution = start(pipeline, "schema-retry", schema_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval")
    for email in (ON_CALL, LEAD):
        assert approver.decide(pipeline.link_for(email), "approve").status == 200
    pipeline.wait_for_state(execution, "Check migration rollback")
    (first,) = BUILDS.started(PROJECT)
    # When the start step runs again with the input it had (a retry)
    function = pipeline.deployment.function_name("FunctionsDatabaseSchemaStartMigrationRollback")
    scheduled = [
        json.loads(details["input"])
        for event in pipeline.aws.execution_events(execution)
        if (details := event.get("lambdaFunctionScheduledEventDetails")) and function in details["resource"]
    ]
    assert len(scheduled) == 1
    response = pipeline.lambda_.invoke(FunctionName=function, Payload=json.dumps(scheduled[0]).encode())
    again = json.loads(response["Payload"].read())
    # Then it returns the build it started, and no second build was started
    assert "FunctionError" not in response, again
    assert again["parameters"]["build_id"] == first.build_id and again["status"] == "unconfirmed"
    assert [b.build_id for b in BUILDS.started(PROJECT)] == [first.build_id]
    pipeline.stop(execution)


def test_the_stand_in_runs_the_jobs_commands_and_reports_as_codebuild_would(
    pipeline: LocalPipeline, tmp_path: Path
) -> None:
    # Given builds of the project run here, with an npx that records what it was asked and fails `db push`
    npx = tmp_path / "npx"
    npx.write_text(
        '#!/usr/bin/env bash\necho "npx $*"\nif [ "$2 $3" = "db push" ]; then echo "P3006" >&2; exit 3; fi\n'
    )
    npx.chmod(npx.stat().st_mode | stat.S_IEXEC)
    BUILDS.run_locally(PROJECT, cwd=tmp_path, environment={"PATH": f"{tmp_path}:{os.environ['PATH']}"}, timeout=30)
    # When the schema rollback is approved
    execution = start(pipeline, "schema-local", schema_input(pipeline))
    result = approve_and_wait(pipeline, execution)
    # Then the commands ran in order with the migration's name, and the failing one failed the build and the rollback
    (build,) = BUILDS.started(PROJECT)
    log = BUILDS.log_of(build.build_id)
    assert "npx prisma migrate status" in log
    assert f"npx prisma migrate resolve --rolled-back {MIGRATION}" in log
    assert "Command did not exit successfully npx prisma db push --accept-data-loss exit status 3" in log
    assert (result["status"], result["error"]) == ("FAILED", "MigrationRollbackFailed"), result
    assert "npx prisma db push --accept-data-loss. Reason: exit status 3" in result["cause"]


@pytest.mark.parametrize("migration", ["add_order_currency", "20261128093000_add_order_currency; rm -rf /"])
def test_a_bad_migration_name_is_refused_at_validation_naming_the_field(
    pipeline: LocalPipeline, migration: str
) -> None:
    # When a schema rollback names a migration that is not a Prisma migration's folder name
    execution = start(pipeline, "schema-bad-name", schema_input(pipeline, migration=migration))
    result = pipeline.wait(execution)
    # Then it fails at validation, naming the field; nobody was asked, nothing was snapshotted or run
    assert (result["status"], result["error"]) == ("FAILED", "InvalidRollbackInput"), result
    assert "target.migration" in result["cause"]
    assert "Run pre-checks" not in pipeline.states_entered(execution)
    assert pipeline.approval_emails.fetch() == []
    assert snapshots() == [] and BUILDS.started() == []
