"""``database_schema``: take a snapshot of an RDS instance and wait for it, then roll back a Prisma migration with
the team's CodeBuild project (runbook procedure 2a); if the job fails, the report names the snapshot to restore
from."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.database_schema.config import DatabaseSchemaConfig
from functions.rollbacks.database_schema.input import DatabaseSchemaTarget

HANDLERS = "functions.rollbacks.database_schema.handlers"

ROLLBACK_TYPE = RollbackType(
    name="database_schema",
    title="Database schema rollback: snapshot, then the migration rollback job (Prisma, CodeBuild)",
    target_model=DatabaseSchemaTarget,
    config_model=DatabaseSchemaConfig,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: instance available, job project exists"),
        SliceFunction(
            "TakeSnapshot",
            f"{HANDLERS}.take_snapshot",
            "Takes the snapshot to go back to before the schema changes",
            changes_the_world=True,
        ),
        SliceFunction("CheckSnapshot", f"{HANDLERS}.check_snapshot", "Is the snapshot available?"),
        SliceFunction(
            "StartMigrationRollback",
            f"{HANDLERS}.start_migration_rollback",
            "Starts the migration rollback job (a CodeBuild build), once",
            changes_the_world=True,
        ),
        SliceFunction("CheckMigrationRollback", f"{HANDLERS}.check_migration_rollback", "Has the job ended?"),
        SliceFunction(
            "RecordMigrationRollback",
            f"{HANDLERS}.record_migration_rollback",
            "Records how the job ended; a failure names the snapshot to restore from",
            changes_the_world=True,
        ),
    ),
)
