"""``database_pitr``: restore an RDS instance to a point in time into a new instance, check its data, then
switch the applications' connection to it (runbook procedure 2b)."""

from functions.capabilities.databases.restore_type import restore_functions
from functions.rollbacks.contract import RollbackType
from functions.rollbacks.database_pitr.config import DatabasePitrConfig
from functions.rollbacks.database_pitr.input import DatabasePitrTarget

ROLLBACK_TYPE = RollbackType(
    name="database_pitr",
    title="Database point-in-time restore into a new instance (RDS)",
    target_model=DatabasePitrTarget,
    part="database_restore",
    config_model=DatabasePitrConfig,
    functions=restore_functions(
        "functions.rollbacks.database_pitr.handlers.run_prechecks",
        "restorable window, data-loss window, RPO",
        "the approved point in time",
    ),
)
