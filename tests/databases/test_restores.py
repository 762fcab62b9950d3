"""The restore capability against moto's RDS, Secrets Manager and SSM at the API level: what approvers are shown,
what is refused before approval, and what each step does when run twice or when the world moved meanwhile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.capabilities.databases.connection_store import (
    ConnectionChanged,
    ConnectionLocation,
    ConnectionStore,
)
from functions.capabilities.databases.instances import RestoreFailed, RestoreTargetTaken
from functions.capabilities.databases.restore_config import DatabaseSettings
from functions.capabilities.databases.restore_plan import restored_instance_name
from functions.capabilities.databases.restore_steps import (
    IntegrityOutcome,
    RestoreProgress,
    RestoreTimedOut,
    SwitchEvent,
    follow_restore,
    start_restore,
    switch_connection,
)
from functions.errors import InvalidRollbackInput
from functions.models.rollback import RollbackRequest
from functions.rollbacks.database_pitr.plan import RestoreTimeOutOfRange
from functions.rollbacks.database_pitr.plan import plan_rollback as plan_pitr
from functions.rollbacks.database_snapshot.plan import SnapshotNotFound
from functions.rollbacks.database_snapshot.plan import plan_rollback as plan_snapshot
from tests.support.requests import rollback_request

SOURCE = "skillancer-prod"
SECRET = "skillancer/production/database"
URL = "postgresql://skillancer:p%40ss@skillancer-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432/skillancer"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def rds(aws: None) -> Any:
    client = boto3.client("rds", region_name="us-east-1")
    client.create_db_parameter_group(
        DBParameterGroupName="tuned", DBParameterGroupFamily="postgres15", Description="tuned"
    )
    client.create_db_instance(
        DBInstanceIdentifier=SOURCE, Engine="postgres", EngineVersion="15.4", DBInstanceClass="db.r6g.xlarge",
        AllocatedStorage=1200, StorageType="gp3", MasterUsername="skillancer", MasterUserPassword="p@ss-word-1",
        DBParameterGroupName="tuned", VpcSecurityGroupIds=["sg-1"], MultiAZ=True, BackupRetentionPeriod=7,
        EnableIAMDatabaseAuthentication=True, Tags=[{"Key": "team", "Value": "payments"}],
    )  # fmt: skip
    from moto.backends import get_backend

    get_backend("rds")["123456789012"]["us-east-1"].databases[SOURCE].instance_create_time = (
        NOW - timedelta(days=2)
    ).replace(tzinfo=None)
    return client


@pytest.fixture
def secrets(aws: None) -> Any:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name=SECRET, SecretString=json.dumps({"DATABASE_URL": URL, "OTHER": "kept"}))
    return client


def settings(rpo_seconds: int = 300) -> DatabaseSettings:
    return DatabaseSettings.model_validate(
        {
            "database_instances": {
                SOURCE: {
                    "connection": {"store": "secretsmanager", "name": SECRET, "json_key": "DATABASE_URL"},
                    "integrity_checks": [{"kind": "row_count", "table": "orders"}],
                }
            },
            "rpo_seconds": rpo_seconds,
            "rto_seconds": 900,
        }
    )


def request(target: dict[str, Any], detected_at: datetime = NOW - timedelta(minutes=3)) -> RollbackRequest:
    return rollback_request(
        "database_pitr", target, now=NOW, detected_at=detected_at, reason="corrupt orders",
        scenario="Data corruption detected", severity="P0",
    )  # fmt: skip


def test_the_plan_shows_the_data_loss_window_the_settings_copied_and_the_rto_risk(rds: Any, secrets: Any) -> None:
    # When a restore to 2 minutes before the incident is planned (1,200 GiB: a long restore)
    plan = plan_pitr(request({"source_instance": SOURCE, "margin_seconds": 120}), rds, secrets, settings())
    restore, switch = plan.changes
    # Then approvers see the window (within the RPO: no extra authority), the estimate against the RTO, the copy
    assert plan.required_roles == []
    assert plan.warnings[0].startswith("Data-loss window:") and "(2 min)" in plan.warnings[0]
    assert any("takes about 22 min" in w and "RTO" in w for w in plan.warnings)
    assert (
        "db.r6g.xlarge" in restore.detail and "parameter group tuned" in restore.detail and "Multi-AZ" in restore.detail
    )
    assert restore.resource == f"rds:db:{SOURCE}" and switch.resource == f"connection:secretsmanager:{SECRET}"
    assert restore.parameters["restored"] == restored_instance_name(SOURCE, "exec-1")


def test_a_window_beyond_the_rpo_adds_the_breach_roles(rds: Any, secrets: Any) -> None:
    plan = plan_pitr(request({"source_instance": SOURCE, "margin_seconds": 600}), rds, secrets, settings())
    assert plan.required_roles == ["cto"]
    assert any("more than the 5 min RPO" in w for w in plan.warnings)


@pytest.mark.parametrize(
    "restore_time",
    [NOW + timedelta(minutes=5), NOW - timedelta(days=3)],
    ids=["in the future (moto would accept it)", "before the instance's backups"],
)
def test_a_restore_time_outside_the_restorable_window_is_refused(
    rds: Any, secrets: Any, restore_time: datetime
) -> None:
    with pytest.raises(RestoreTimeOutOfRange, match="is outside what skillancer-prod can be restored to"):
        plan_pitr(request({"source_instance": SOURCE, "restore_time": restore_time.isoformat()}), rds, secrets,
                  settings())  # fmt: skip


def test_an_instance_without_automated_backups_cannot_be_restored_to_a_point_in_time(rds: Any, secrets: Any) -> None:
    rds.modify_db_instance(DBInstanceIdentifier=SOURCE, BackupRetentionPeriod=0, ApplyImmediately=True)
    with pytest.raises(InvalidRollbackInput, match="automated backups turned off"):
        plan_pitr(request({"source_instance": SOURCE}), rds, secrets, settings())


def test_an_instance_that_is_not_configured_is_refused_by_name(rds: Any, secrets: Any) -> None:
    with pytest.raises(InvalidRollbackInput, match=r"target\.source_instance: other-db is not configured"):
        plan_pitr(request({"source_instance": "other-db"}), rds, secrets, settings())


def test_the_snapshot_restore_refuses_when_no_snapshot_predates_the_incident(rds: Any, secrets: Any) -> None:
    # Given only the automated snapshot moto takes at creation (now, after the incident)
    with pytest.raises(SnapshotNotFound, match="no available snapshot taken before"):
        plan_snapshot(request({"source_instance": SOURCE}, detected_at=NOW - timedelta(days=1)), rds, secrets,
                      settings())  # fmt: skip


def test_a_restore_run_twice_creates_one_instance_and_refuses_a_name_it_did_not_create(rds: Any, secrets: Any) -> None:
    plan = plan_pitr(request({"source_instance": SOURCE}), rds, secrets, settings())
    restore = plan.changes[0]
    # When the restore step runs twice (a retry)
    first = start_restore(restore, rds, "exec-1", NOW)
    second = start_restore(restore, rds, "exec-1", NOW)
    # Then there is one restored instance, tagged with this rollback
    names = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert sorted(names) == sorted([SOURCE, str(restore.parameters["restored"])])
    assert first.parameters["restored"] == second.parameters["restored"]
    # And another rollback that lands on the same name refuses to adopt it
    with pytest.raises(RestoreTargetTaken):
        start_restore(restore, rds, "exec-2", NOW)


def test_following_a_restore_fails_on_a_failed_state_and_after_its_time_limit(rds: Any, secrets: Any) -> None:
    restore = plan_pitr(request({"source_instance": SOURCE}), rds, secrets, settings()).changes[0]
    record = start_restore(restore, rds, "exec-1", NOW)
    from moto.backends import get_backend

    instance = get_backend("rds")["123456789012"]["us-east-1"].databases[str(record.parameters["restored"])]
    instance.status = "creating"
    # Then still creating within the limit: not available yet, no error
    assert not follow_restore(record, rds, NOW + timedelta(minutes=5), timedelta(minutes=45)).available
    # And past the limit: the rollback fails instead of waiting forever
    with pytest.raises(RestoreTimedOut):
        follow_restore(record, rds, NOW + timedelta(minutes=46), timedelta(minutes=45))
    instance.status = "incompatible-restore"
    with pytest.raises(RestoreFailed, match="incompatible-restore"):
        follow_restore(record, rds, NOW, timedelta(minutes=45))


def switch_event(plan_change: Any) -> SwitchEvent:
    return SwitchEvent.model_validate(
        {
            "request": request({"source_instance": SOURCE}).model_dump(mode="json"),
            "approval_id": "a1",
            "change": plan_change.model_dump(mode="json"),
            "restored": RestoreProgress(
                restored="skillancer-prod-rb-1",
                status="available",
                available=True,
                address="restored.example",
                port=6432,
                started_at=NOW,
            ).model_dump(mode="json"),
            "integrity": IntegrityOutcome(
                passed=True, summary="ok", newest_write_at=NOW - timedelta(minutes=4), measured_rpo_seconds=61.0
            ).model_dump(mode="json"),
        }
    )


def test_the_switch_writes_one_new_version_however_often_it_runs(rds: Any, secrets: Any) -> None:
    switch = plan_pitr(request({"source_instance": SOURCE}), rds, secrets, settings()).changes[1]
    # When the switch runs twice
    first = switch_connection(switch_event(switch), secrets, NOW)
    second = switch_connection(switch_event(switch), secrets, NOW)
    # Then the secret has one new version pointing at the restored instance, the other keys intact
    current = json.loads(secrets.get_secret_value(SecretId=SECRET)["SecretString"])
    assert current == {
        "DATABASE_URL": "postgresql://skillancer:p%40ss@restored.example:6432/skillancer",
        "OTHER": "kept",
    }
    versions = secrets.list_secret_version_ids(SecretId=SECRET)["Versions"]
    assert len(versions) == 2 and first.parameters["version"] == second.parameters["version"]
    assert first.data_loss_seconds == 61.0
    previous = secrets.get_secret_value(SecretId=SECRET, VersionStage="AWSPREVIOUS")["SecretString"]
    assert json.loads(previous)["DATABASE_URL"] == URL


def test_the_switch_refuses_a_connection_changed_since_it_was_approved(rds: Any, secrets: Any) -> None:
    switch = plan_pitr(request({"source_instance": SOURCE}), rds, secrets, settings()).changes[1]
    # Given someone pointed the secret elsewhere after the approval
    moved = json.dumps({"DATABASE_URL": URL.replace("skillancer-prod.", "replica."), "OTHER": "kept"})
    secrets.put_secret_value(SecretId=SECRET, SecretString=moved)
    # Then the switch refuses, and the secret stays as that person left it
    with pytest.raises(ConnectionChanged, match="approvers saw version"):
        switch_connection(switch_event(switch), secrets, NOW)
    assert secrets.get_secret_value(SecretId=SECRET)["SecretString"] == moved


def test_an_ssm_parameter_connection_is_switched_with_its_history_kept(aws: None) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/skillancer/database-url", Value=URL, Type="SecureString")
    store = ConnectionStore(ConnectionLocation(store="ssm", name="/skillancer/database-url"), ssm)
    approved = store.read()
    written = store.switch(URL.replace("5432", "6432"), approved_version=approved.version, request_token="r1")
    again = store.switch(URL.replace("5432", "6432"), approved_version=approved.version, request_token="r1")
    assert (approved.version, written.version, again.version) == ("1", "2", "2")
    history = ssm.get_parameter_history(Name="/skillancer/database-url", WithDecryption=True)["Parameters"]
    assert [p["Value"] for p in history] == [URL, URL.replace("5432", "6432")]
