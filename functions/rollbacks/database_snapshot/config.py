"""Deployment configuration of ``database_snapshot`` (``rollback.types.database_snapshot`` in ``cdk.json``)."""

from __future__ import annotations

from collections.abc import Sequence

from functions.capabilities.databases.restore_config import DatabaseRestoreConfig, permissions_by_function
from functions.rollbacks.contract import Permission


class DatabaseSnapshotConfig(DatabaseRestoreConfig):
    def permissions(self, function: str) -> Sequence[Permission]:
        return permissions_by_function(self, "rds:RestoreDBInstanceFromDBSnapshot").get(function, ())
