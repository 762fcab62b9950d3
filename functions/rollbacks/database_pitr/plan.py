"""Pre-checks of a point-in-time restore: the restore time lies in the instance's restorable window (RDS is
asked; a time outside it is refused here, before anyone is asked to approve), then the shared restore plan."""

from __future__ import annotations

from typing import Any

from functions.capabilities.databases import instances
from functions.capabilities.databases.connection_store import ConnectionStore
from functions.capabilities.databases.restore_config import DatabaseSettings
from functions.capabilities.databases.restore_plan import RestorePoint, plan_restore
from functions.errors import InvalidRollbackInput
from functions.models.rollback import RollbackPlan, RollbackRequest
from functions.rollbacks.database_pitr.input import DatabasePitrTarget


class RestoreTimeOutOfRange(InvalidRollbackInput):
    """The restore time is outside what the instance's backups can restore."""


def plan_rollback(
    request: RollbackRequest, rds: Any, connection_client: Any, settings: DatabaseSettings
) -> RollbackPlan:
    target = DatabasePitrTarget.model_validate(request.target)
    configured = settings.instance(target.source_instance)
    source = instances.describe_instance(rds, target.source_instance)
    earliest, latest = instances.restorable_window(rds, source)
    at = target.restore_point(request.detected_at)
    if not earliest <= at <= latest:
        raise RestoreTimeOutOfRange(
            f"target.restore_time: {at.isoformat(timespec='seconds')} is outside what {source.identifier} can be "
            f"restored to ({earliest.isoformat(timespec='seconds')} to {latest.isoformat(timespec='seconds')})"
        )
    store = ConnectionStore(configured.connection, connection_client)
    return plan_restore(
        request,
        source=source,
        point=RestorePoint(source=source.identifier, at=at),
        connection=store,
        current=store.read(),
        settings=settings,
        rto_seconds=settings.rto_seconds,
        restart=configured.restart,
        cluster=settings.cluster_name,
    )
