"""RDS instances as a restore sees them: the settings a restore must copy (RDS otherwise falls back to defaults),
the restorable window, the snapshots, and the restore calls themselves.

A restore always creates a **new** instance; nothing here deletes, stops or modifies an existing one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from functions.errors import InvalidRollbackInput, RollbackError

ROLLBACK_TAG = "rollback-id"
RESTORED_FROM_TAG = "restored-from"
FAILED_STATES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "storage-full",
        "deleting",
        "deleted",
    }
)


class InstanceNotFound(InvalidRollbackInput):
    """No such RDS instance."""


class RestoreTargetTaken(RollbackError):
    """An instance with the restored instance's name exists and was not created by this rollback."""


class RestoreFailed(RollbackError):
    """The restored instance ended in a state it cannot leave by itself."""


class RestoreSettings(BaseModel):
    """What a restored instance must share with its source to serve the same applications, as restore parameters.
    Storage encryption and its key come with the backup itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    DBInstanceClass: str
    DBSubnetGroupName: str | None = None
    VpcSecurityGroupIds: list[str] = []
    DBParameterGroupName: str | None = None
    OptionGroupName: str | None = None
    MultiAZ: bool = False
    AvailabilityZone: str | None = None
    StorageType: str | None = None
    AllocatedStorage: int | None = None
    Iops: int | None = None
    Port: int | None = None
    PubliclyAccessible: bool = False
    EnableIAMDatabaseAuthentication: bool = False
    CopyTagsToSnapshot: bool = False
    DeletionProtection: bool = False
    Tags: list[dict[str, str]] = []

    def parameters(self, rollback_id: str, source: str) -> dict[str, Any]:
        """The restore call's parameters: these settings, and tags naming the rollback and the source."""
        values = self.model_dump(exclude_none=True)
        if values.get("MultiAZ"):
            values.pop("AvailabilityZone", None)  # RDS refuses both
        if not values.get("VpcSecurityGroupIds"):
            values.pop("VpcSecurityGroupIds", None)
        for group in ("DBParameterGroupName", "OptionGroupName"):
            if str(values.get(group, "")).startswith("default"):
                values.pop(group)  # the engine's default group: what a restore uses when given none
        own = {ROLLBACK_TAG, RESTORED_FROM_TAG}
        values["Tags"] = [t for t in self.Tags if t["Key"] not in own] + [
            {"Key": ROLLBACK_TAG, "Value": rollback_id},
            {"Key": RESTORED_FROM_TAG, "Value": source},
        ]
        return values

    def describe(self) -> str:
        """One line for approvers: what the restored instance copies."""
        parts = [
            self.DBInstanceClass,
            f"subnet group {self.DBSubnetGroupName or 'default'}",
            f"{len(self.VpcSecurityGroupIds)} security group(s)",
            f"parameter group {self.DBParameterGroupName or 'default'}",
            "Multi-AZ" if self.MultiAZ else f"single-AZ {self.AvailabilityZone or ''}".strip(),
            f"{self.AllocatedStorage} GiB {self.StorageType or ''}".strip(),
            "IAM auth on" if self.EnableIAMDatabaseAuthentication else "IAM auth off",
            f"{len(self.Tags)} tag(s)",
        ]
        return ", ".join(parts)


class InstanceFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    identifier: str
    status: str
    address: str | None
    port: int | None
    created_at: datetime
    latest_restorable_at: datetime | None
    backup_retention_days: int
    allocated_storage_gib: int
    settings: RestoreSettings
    tags: dict[str, str]


def describe_instance(rds: Any, identifier: str) -> InstanceFacts:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except rds.exceptions.DBInstanceNotFoundFault:
        raise InstanceNotFound(f"no RDS instance {identifier}") from None
    return facts_of(found[0])


def find_instance(rds: Any, identifier: str) -> InstanceFacts | None:
    try:
        return describe_instance(rds, identifier)
    except InstanceNotFound:
        return None


def facts_of(instance: dict[str, Any]) -> InstanceFacts:
    endpoint = instance.get("Endpoint") or {}
    groups = instance.get("DBParameterGroups") or [{}]
    options = instance.get("OptionGroupMemberships") or [{}]
    tags = instance.get("TagList") or []
    settings = RestoreSettings(
        DBInstanceClass=instance["DBInstanceClass"],
        DBSubnetGroupName=(instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        VpcSecurityGroupIds=[g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups") or []],
        DBParameterGroupName=groups[0].get("DBParameterGroupName"),
        OptionGroupName=options[0].get("OptionGroupName"),
        MultiAZ=bool(instance.get("MultiAZ")),
        AvailabilityZone=instance.get("AvailabilityZone"),
        StorageType=instance.get("StorageType"),
        AllocatedStorage=instance.get("AllocatedStorage"),
        Iops=instance.get("Iops"),
        Port=endpoint.get("Port") or instance.get("DbInstancePort") or None,
        PubliclyAccessible=bool(instance.get("PubliclyAccessible")),
        EnableIAMDatabaseAuthentication=bool(instance.get("IAMDatabaseAuthenticationEnabled")),
        CopyTagsToSnapshot=bool(instance.get("CopyTagsToSnapshot")),
        DeletionProtection=bool(instance.get("DeletionProtection")),
        Tags=[{"Key": t["Key"], "Value": t["Value"]} for t in tags],
    )
    return InstanceFacts(
        identifier=instance["DBInstanceIdentifier"],
        status=instance["DBInstanceStatus"],
        address=endpoint.get("Address"),
        port=endpoint.get("Port"),
        created_at=_aware(instance["InstanceCreateTime"]),
        latest_restorable_at=_aware(instance["LatestRestorableTime"]) if instance.get("LatestRestorableTime") else None,
        backup_retention_days=int(instance.get("BackupRetentionPeriod") or 0),
        allocated_storage_gib=int(instance.get("AllocatedStorage") or 0),
        settings=settings,
        tags={t["Key"]: t["Value"] for t in tags},
    )


def restorable_window(rds: Any, source: InstanceFacts) -> tuple[datetime, datetime]:
    """``[earliest, latest]`` restorable times of ``source``: the automated backups' restore window where RDS
    reports it, else what the retention period and the instance's age allow."""
    if source.backup_retention_days <= 0 or source.latest_restorable_at is None:
        raise InvalidRollbackInput(
            f"{source.identifier} has automated backups turned off: it cannot be restored to a point in time"
        )
    latest = source.latest_restorable_at
    earliest = max(source.created_at, latest - timedelta(days=source.backup_retention_days))
    backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=source.identifier)
    for backup in backups.get("DBInstanceAutomatedBackups", []):
        window = backup.get("RestoreWindow") or {}
        if window.get("EarliestTime"):
            earliest = _aware(window["EarliestTime"])
    return earliest, latest


class SnapshotFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    identifier: str
    instance: str
    kind: str
    created_at: datetime
    status: str


def snapshots_of(rds: Any, source: str) -> list[SnapshotFacts]:
    """``source``'s snapshots (automated and manual), newest first."""
    found: list[SnapshotFacts] = []
    for page in rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=source):
        found += [
            SnapshotFacts(
                identifier=s["DBSnapshotIdentifier"],
                instance=s["DBInstanceIdentifier"],
                kind=s.get("SnapshotType", "manual"),
                created_at=_aware(s["SnapshotCreateTime"]),
                status=s.get("Status", "available"),
            )
            for s in page.get("DBSnapshots", [])
            if s.get("SnapshotCreateTime")
        ]
    return sorted(found, key=lambda s: s.created_at, reverse=True)


def restore_to_point_in_time(
    rds: Any, *, source: str, target: str, at: datetime, settings: RestoreSettings, rollback_id: str
) -> InstanceFacts:
    """Starts the restore of ``source`` as it was ``at`` into the new instance ``target`` (or finds the one this
    rollback started before: safe to run twice)."""
    existing = _ours(rds, target, rollback_id)
    if existing is not None:
        return existing
    created = rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=source,
        TargetDBInstanceIdentifier=target,
        RestoreTime=at.astimezone(UTC),
        **settings.parameters(rollback_id, source),
    )["DBInstance"]
    return facts_of({**created, "TagList": created.get("TagList") or settings.parameters(rollback_id, source)["Tags"]})


def restore_from_snapshot(
    rds: Any, *, snapshot: str, source: str, target: str, settings: RestoreSettings, rollback_id: str
) -> InstanceFacts:
    """Starts the restore of ``snapshot`` into the new instance ``target`` (or finds the one this rollback started
    before)."""
    existing = _ours(rds, target, rollback_id)
    if existing is not None:
        return existing
    created = rds.restore_db_instance_from_db_snapshot(
        DBSnapshotIdentifier=snapshot, DBInstanceIdentifier=target, **settings.parameters(rollback_id, source)
    )["DBInstance"]
    return facts_of({**created, "TagList": created.get("TagList") or settings.parameters(rollback_id, source)["Tags"]})


def _ours(rds: Any, target: str, rollback_id: str) -> InstanceFacts | None:
    existing = find_instance(rds, target)
    if existing is None:
        return None
    if existing.tags.get(ROLLBACK_TAG) != rollback_id:
        raise RestoreTargetTaken(f"an instance named {target} exists and was not created by this rollback")
    return existing


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
