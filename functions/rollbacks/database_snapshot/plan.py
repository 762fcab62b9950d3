"""Pre-checks of a snapshot restore: which snapshot (the one given, or the newest available one taken before the
incident), then the shared restore plan."""

from __future__ import annotations

from typing import Any

from functions.capabilities.databases import instances
from functions.capabilities.databases.connection_store import ConnectionStore
from functions.capabilities.databases.instances import SnapshotFacts
from functions.capabilities.databases.restore_config import DatabaseSettings
from functions.capabilities.databases.restore_plan import RestorePoint, plan_restore
from functions.errors import InvalidRollbackInput
from functions.models.rollback import RollbackPlan, RollbackRequest
from functions.rollbacks.database_snapshot.input import DatabaseSnapshotTarget


class SnapshotNotFound(InvalidRollbackInput):
    """No snapshot to restore: none with that id, or none available before that time."""


def choose_snapshot(
    target: DatabaseSnapshotTarget, snapshots: list[SnapshotFacts], request: RollbackRequest
) -> SnapshotFacts:
    if target.snapshot_id is not None:
        for snapshot in snapshots:
            if snapshot.identifier == target.snapshot_id:
                if snapshot.status != "available":
                    raise SnapshotNotFound(f"target.snapshot_id: {snapshot.identifier} is {snapshot.status}")
                return snapshot
        raise SnapshotNotFound(f"target.snapshot_id: {target.source_instance} has no snapshot {target.snapshot_id}")
    before = target.taken_before or request.detected_at
    for snapshot in snapshots:  # newest first
        if snapshot.status == "available" and snapshot.created_at < before:
            return snapshot
    raise SnapshotNotFound(
        f"target.taken_before: {target.source_instance} has no available snapshot taken before "
        f"{before.isoformat(timespec='seconds')}"
    )


def plan_rollback(
    request: RollbackRequest, rds: Any, connection_client: Any, settings: DatabaseSettings
) -> RollbackPlan:
    target = DatabaseSnapshotTarget.model_validate(request.target)
    configured = settings.instance(target.source_instance)
    source = instances.describe_instance(rds, target.source_instance)
    snapshot = choose_snapshot(target, instances.snapshots_of(rds, source.identifier), request)
    store = ConnectionStore(configured.connection, connection_client)
    return plan_restore(
        request,
        source=source,
        point=RestorePoint(source=source.identifier, at=snapshot.created_at, snapshot=snapshot.identifier),
        connection=store,
        current=store.read(),
        settings=settings,
        rto_seconds=settings.rto_seconds,
        restart=configured.restart,
        cluster=settings.cluster_name,
    )
