"""The snapshot a schema rollback takes first, and waits for: the way back if the migration rollback goes wrong
(``database_snapshot`` restores it into a new instance)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.capabilities.databases.instances import ROLLBACK_TAG
from functions.capabilities.databases.restore_plan import duration_text
from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange, StrictModel
from functions.rollbacks.database_schema.config import SNAPSHOT_INFIX

SNAPSHOT_OF_TAG = "pre-schema-rollback-of"
FAILED_STATES = frozenset({"failed", "deleting", "deleted", "incompatible-restore", "incompatible-parameters"})


class SnapshotNameTaken(RollbackError):
    """A snapshot with this rollback's snapshot name exists and was not taken by this rollback."""


class SnapshotFailed(RollbackError):
    """The snapshot ended in a state it cannot leave: the migration rollback is not started."""


class SnapshotTimedOut(RollbackError):
    """The snapshot was not available within the configured time: the migration rollback is not started."""


class SnapshotProgress(StrictModel):
    snapshot: str
    source: str
    status: str
    available: bool
    started_at: datetime


def snapshot_name(source: str, rollback_id: str) -> str:
    """The same name for every run of one rollback: a retried step finds the snapshot it took."""
    return f"{source}{SNAPSHOT_INFIX}{hashlib.sha256(rollback_id.encode()).hexdigest()[:8]}"


def find_snapshot(rds: Any, snapshot: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"][0]
    except rds.exceptions.DBSnapshotNotFoundFault:
        return None
    return found


def take_snapshot(change: PlannedChange, rds: Any, rollback_id: str, now: datetime) -> ChangeRecord:
    """Starts a manual snapshot of the source (or finds the one this rollback started)."""
    source, snapshot = str(change.parameters["source"]), str(change.parameters["snapshot"])
    found = find_snapshot(rds, snapshot)
    if found is not None:
        tags = {t["Key"]: t["Value"] for t in found.get("TagList") or []}
        if tags.get(ROLLBACK_TAG) != rollback_id:
            raise SnapshotNameTaken(f"a snapshot named {snapshot} exists and was not taken by this rollback")
    else:
        found = rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot,
            DBInstanceIdentifier=source,
            Tags=[{"Key": ROLLBACK_TAG, "Value": rollback_id}, {"Key": SNAPSHOT_OF_TAG, "Value": source}],
        )["DBSnapshot"]
    return ChangeRecord.of(
        change,
        "applied",
        f"snapshot {snapshot} of {source} taken ({found.get('Status', 'creating')}); the migration rollback starts "
        "only once it is available",
        now,
        parameters={"snapshot": snapshot, "source": source, "started_at": now.isoformat()},
    )


def follow_snapshot(record: ChangeRecord, rds: Any, now: datetime, timeout: timedelta) -> SnapshotProgress:
    snapshot, source = str(record.parameters["snapshot"]), str(record.parameters["source"])
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    found = find_snapshot(rds, snapshot)
    status = str(found.get("Status", "")) if found else "missing"
    if found is None or status in FAILED_STATES:
        raise SnapshotFailed(f"snapshot {snapshot} of {source} is {status}: the migration rollback was not started")
    available = status == "available"
    if not available and now - started_at > timeout:
        raise SnapshotTimedOut(
            f"snapshot {snapshot} of {source} is still {status} after {duration_text(timeout.total_seconds())}: "
            "the migration rollback was not started"
        )
    return SnapshotProgress(
        snapshot=snapshot, source=source, status=status, available=available, started_at=started_at.astimezone(UTC)
    )
