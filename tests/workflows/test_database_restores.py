"""Database rollbacks end to end on the emulators (runbook procedures 2b and 2c): moto's RDS, each instance paired
with a real PostgreSQL server holding its data, the real handlers and the synthesized state machines.

Approve -> a new instance with the source's settings, the secret switched only after the restored data passed its
checks, the source untouched; data that fails its checks -> no switch, FAILED, notified, lock released; a restore
time outside the window -> refused before approval; a data-loss window beyond the RPO -> the CTO must approve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local import approver
from local.databases import EmulatedDatabases, Write, steady_writes
from local.pipeline import NAMESPACE, LocalPipeline
from local.postgres import PostgresFarm
from local.synth import Synthesized

RC5 = "registry.example.com/skillancer-api:v1.0.0-rc.5"
SOURCE = "skillancer-prod"
SECRET = "skillancer/production/database"
INCIDENT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)


@pytest.fixture(autouse=True)
def incident_two_minutes_ago() -> None:
    """Each test's incident began two minutes before it (the RTO clock, and so the escalation, runs from it)."""
    global INCIDENT
    INCIDENT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)


@pytest.fixture(scope="module")
def farm() -> Iterator[PostgresFarm]:
    with PostgresFarm() as servers:
        yield servers


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """The pipeline, with the application healthy (the database is what broke)."""
    with LocalPipeline(synthesized) as running:
        running.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5)
        running.kube.settle()
        yield running


@pytest.fixture
def databases(pipeline: LocalPipeline, farm: PostgresFarm) -> Iterator[EmulatedDatabases]:
    """skillancer-prod with two hours of writes up to the incident, and bad writes since; its URL in the secret."""
    with EmulatedDatabases(farm).serving() as emulated:
        writes = steady_writes(INCIDENT)
        backups_since = min(w.at for w in writes) - timedelta(hours=1)
        source = emulated.create_source(boto3.client("rds"), SOURCE, writes, created_at=backups_since)
        emulated.write(SOURCE, [Write("orders", INCIDENT + timedelta(seconds=s)) for s in (10, 40, 70)])
        boto3.client("secretsmanager").create_secret(
            Name=SECRET, SecretString=json.dumps({"DATABASE_URL": source.url, "REDIS_URL": "redis://cache:6379"})
        )
        yield emulated


def restore_input(pipeline: LocalPipeline, **target: Any) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": {"source_instance": SOURCE, **target},
        "reason": "a migration rewrote every order's amount",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Data corruption detected",
        "severity": "P0",
        "detected_at": INCIDENT.isoformat().replace("+00:00", "Z"),
        "health_urls": [pipeline.health.url_for("skillancer-api")],
    }


def start(pipeline: LocalPipeline, construct: str, name: str, payload: dict[str, Any]) -> str:
    arn = pipeline.deployment.state_machine_arn(construct)
    return str(pipeline.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])


def approve(pipeline: LocalPipeline, *emails: str) -> None:
    for email in emails:
        assert approver.decide(pipeline.link_for(email), "approve").status == 200


def database_url() -> str:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]
    return str(json.loads(secret)["DATABASE_URL"])


def instance(identifier: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    return found


def test_point_in_time_restore_switches_to_a_checked_copy_and_leaves_the_source_untouched(
    pipeline: LocalPipeline, databases: EmulatedDatabases
) -> None:
    # Given skillancer-prod, its URL in the secret, and a healthy service to verify
    before = instance(SOURCE)
    source_url = database_url()
    # When a restore to one minute before the incident is started and on-call and lead approve
    execution = start(pipeline, "DatabasePitr", "pitr-1", restore_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval")
    page = approver.view(pipeline.link_for("oncall-primary@skillancer.com"))
    approve(pipeline, "oncall-primary@skillancer.com", "eng-lead@skillancer.com")
    result = pipeline.wait(execution)
    # Then the approvers saw the data-loss window before deciding
    assert "Data-loss window" in page.text and "1 min" in page.text
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    report = json.loads(result["output"])
    restore, switch, restart = report["changes"]
    restored = restore["target"].removeprefix("RDS instance ")
    assert restored.startswith(f"{SOURCE}-rb-")
    assert restore["status"] == switch["status"] == restart["status"] == "applied"
    # And the API was restarted after the switch (its new pods read the new URL), as kubectl rollout restart does
    assert restart["target"] == "Deployment production/skillancer-api"
    annotations = pipeline.kube.deployment(NAMESPACE, "skillancer-api")["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    entered = pipeline.states_entered(execution)
    assert (
        entered.index("Switch connection") < entered.index("Restart application") < entered.index("Start verification")
    )
    # And the restored instance copies the source's settings (RDS would otherwise fall back to defaults)
    copy = instance(restored)
    for setting in (
        "DBInstanceClass",
        "MultiAZ",
        "AllocatedStorage",
        "StorageType",
        "IAMDatabaseAuthenticationEnabled",
    ):
        assert copy[setting] == before[setting], setting
    assert copy["DBParameterGroups"][0]["DBParameterGroupName"] == f"{SOURCE}-params"
    assert sorted(g["VpcSecurityGroupId"] for g in copy["VpcSecurityGroups"]) == ["sg-0app", "sg-0bastion"]
    assert {t["Key"]: t["Value"] for t in copy["TagList"]}["data-classification"] == "confidential"
    # And the secret now points at the restored copy, with the previous version kept and its other keys intact
    assert database_url() == databases.instances[restored].url != source_url
    previous = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET, VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"]) == {"DATABASE_URL": source_url, "REDIS_URL": "redis://cache:6379"}
    # And the copy holds the data up to one minute before the incident: the measured RPO says so
    assert "measured RPO 1 min" in switch["detail"]
    # And the source is untouched: same settings, still available, bad writes still there for forensics
    moves_by_itself = {"LatestRestorableTime"}
    assert {k: v for k, v in instance(SOURCE).items() if k not in moves_by_itself} == {
        k: v for k, v in before.items() if k not in moves_by_itself
    }
    assert "untouched" in restore["detail"]
    assert pipeline.lock_holder() is None


def test_data_that_fails_its_checks_is_never_switched_to(pipeline: LocalPipeline, databases: EmulatedDatabases) -> None:
    # Given a restore point before the first user or order was ever written (the restored copy has none)
    first_write = min(w.at for w in databases.instances[SOURCE].writes)
    source_url = database_url()
    execution = start(
        pipeline, "DatabasePitr", "pitr-empty",
        restore_input(pipeline, restore_time=(first_write - timedelta(seconds=30)).isoformat()),
    )  # fmt: skip
    pipeline.wait_for_state(execution, "Request approval")
    # When the CTO (the window breaks the RPO) and the others approve
    approve(pipeline, "oncall-primary@skillancer.com", "eng-lead@skillancer.com", "cto@skillancer.com")
    result = pipeline.wait(execution)
    # Then it fails at the checks, the secret still points at the source, and the lock is released
    assert (result["status"], result["error"]) == ("FAILED", "IntegrityCheckFailed"), result
    assert database_url() == source_url
    assert pipeline.lock_holder() is None
    assert "Switch connection" not in pipeline.states_entered(execution)
    assert "restartedAt" not in json.dumps(pipeline.kube.deployment(NAMESPACE, "skillancer-api")["spec"]["template"])
    assert "rows in orders: FAILED" in result["cause"]
    # And the report says what moved (a restored instance) and what did not (the secret), and it was sent
    subjects = [e.subject for e in pipeline.notifications.fetch() if "Rollback" in e.subject]
    assert any("FAILED" in s and "PARTIAL" in s for s in subjects), subjects


def test_a_restore_time_outside_the_window_is_refused_before_approval(
    pipeline: LocalPipeline, databases: EmulatedDatabases
) -> None:
    # When a restore to a time after the newest restorable one (the future) is asked for
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    execution = start(pipeline, "DatabasePitr", "pitr-future", restore_input(pipeline, restore_time=future))
    result = pipeline.wait(execution)
    # Then the pre-checks refuse it with the window named, and nobody was asked to approve
    assert (result["status"], result["error"]) == ("FAILED", "RestoreTimeOutOfRange"), result
    assert "is outside what skillancer-prod can be restored to" in result["cause"]
    assert "Request approval" not in pipeline.states_entered(execution)
    assert pipeline.approval_emails.fetch() == []


def test_a_data_loss_window_beyond_the_rpo_needs_the_cto(pipeline: LocalPipeline, databases: EmulatedDatabases) -> None:
    # When a restore to 20 minutes before the incident is started (the RPO is 5 minutes)
    execution = start(pipeline, "DatabasePitr", "pitr-rpo", restore_input(pipeline, margin_seconds=1200))
    pipeline.wait_for_state(execution, "Request approval")
    # Then the CTO is asked too, and on-call plus lead are not enough
    assert pipeline.link_for("cto@skillancer.com")
    approve(pipeline, "oncall-primary@skillancer.com", "eng-lead@skillancer.com")
    assert pipeline.describe(execution)["status"] == "RUNNING"
    page = approver.view(pipeline.link_for("cto@skillancer.com"))
    assert "more than the 5 min RPO" in page.text
    approve(pipeline, "cto@skillancer.com")
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"


def test_snapshot_restore_picks_the_newest_snapshot_before_the_incident(
    pipeline: LocalPipeline, databases: EmulatedDatabases
) -> None:
    # Given snapshots taken 3 hours, 30 minutes before and 1 minute after the incident began
    rds = boto3.client("rds")
    for name, offset in (("nightly", -180), ("pre-deploy", -30), ("after", 1)):
        databases.take_snapshot(rds, SOURCE, name, INCIDENT + timedelta(minutes=offset))
    # When a snapshot restore is started and approved (30 minutes of data lost: the CTO too)
    execution = start(pipeline, "DatabaseSnapshot", "snapshot-1", restore_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval")
    approve(pipeline, "oncall-primary@skillancer.com", "eng-lead@skillancer.com", "cto@skillancer.com")
    result = pipeline.wait(execution)
    # Then pre-deploy was restored, and the copy's newest write is 30 minutes before the incident
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    restore, switch, _ = json.loads(result["output"])["changes"]
    assert "snapshot pre-deploy" in restore["after"]
    assert "measured RPO 30 min" in switch["detail"]
    assert "data-loss window 30 min" in restore["detail"]
