"""``database_pitr``: restore an RDS instance to a point in time into a new instance, check its data, then
switch the applications' connection to it (runbook procedure 2b)."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.database_pitr.config import DatabasePitrConfig
from functions.rollbacks.database_pitr.input import DatabasePitrTarget

HANDLERS = "functions.rollbacks.database_pitr.handlers"

ROLLBACK_TYPE = RollbackType(
    name="database_pitr",
    title="Database point-in-time restore into a new instance (RDS)",
    target_model=DatabasePitrTarget,
    part="database_restore",
    config_model=DatabasePitrConfig,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: restorable window, data-loss window, RPO"),
        SliceFunction(
            "RestoreInstance",
            f"{HANDLERS}.restore_instance",
            "Restores the approved point in time into a new instance with the source's settings",
            changes_the_world=True,
        ),
        SliceFunction("CheckRestore", f"{HANDLERS}.check_restore", "Is the restored instance available?"),
        SliceFunction(
            "CheckIntegrity",
            f"{HANDLERS}.check_integrity",
            "Data-integrity checks against the restored instance",
            timeout_seconds=120,
        ),
        SliceFunction(
            "SwitchConnection",
            f"{HANDLERS}.switch_connection",
            "Points the applications' database URL at the restored instance",
            changes_the_world=True,
        ),
        SliceFunction(
            "RestartApplication",
            f"{HANDLERS}.restart_application",
            "kubectl rollout restart, so the application reads the switched URL",
            changes_the_world=True,
        ),
        SliceFunction("CheckRestart", f"{HANDLERS}.check_restart", "kubectl rollout status of the restart"),
    ),
)
