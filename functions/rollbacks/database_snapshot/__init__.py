"""``database_snapshot``: restore an RDS snapshot into a new instance, check its data, then switch the
applications' connection to it (runbook procedure 2c)."""

from functions.capabilities.databases.restore_type import restore_functions
from functions.rollbacks.contract import RollbackType
from functions.rollbacks.database_snapshot.config import DatabaseSnapshotConfig
from functions.rollbacks.database_snapshot.input import DatabaseSnapshotTarget

ROLLBACK_TYPE = RollbackType(
    name="database_snapshot",
    title="Database restore from a snapshot into a new instance (RDS)",
    target_model=DatabaseSnapshotTarget,
    part="database_restore",
    config_model=DatabaseSnapshotConfig,
    functions=restore_functions(
        "functions.rollbacks.database_snapshot.handlers.run_prechecks",
        "which snapshot, data-loss window, RPO",
        "the approved snapshot",
    ),
)
