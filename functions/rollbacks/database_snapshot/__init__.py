"""``database_snapshot``: restore an RDS snapshot into a new instance, check its data, then switch the
applications' connection to it (runbook procedure 2c)."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.database_snapshot.config import DatabaseSnapshotConfig
from functions.rollbacks.database_snapshot.input import DatabaseSnapshotTarget

HANDLERS = "functions.rollbacks.database_snapshot.handlers"

ROLLBACK_TYPE = RollbackType(
    name="database_snapshot",
    title="Database restore from a snapshot into a new instance (RDS)",
    target_model=DatabaseSnapshotTarget,
    part="database_restore",
    config_model=DatabaseSnapshotConfig,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: which snapshot, data-loss window, RPO"),
        SliceFunction(
            "RestoreInstance",
            f"{HANDLERS}.restore_instance",
            "Restores the approved snapshot into a new instance with the source's settings",
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
