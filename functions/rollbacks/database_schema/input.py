"""What a ``database_schema`` rollback targets: an RDS instance, and the Prisma migration to roll back there.

The commands the job runs are not part of the input: they come from the deployment configuration (the runbook's by
default), so a request can name a migration but never choose what runs against the database."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.capabilities.databases.restore_config import InstanceId

# Prisma Migrate names a migration's folder "<UTC time as YYYYMMDDHHMMSS>_<name>", the name slugified with "_" as
# the separator (lower-case letters and digits) and cut at 200 characters.
MIGRATION_PATTERN = r"^[0-9]{14}_[a-z0-9]+(_[a-z0-9]+)*$"
MIGRATION_MAX_LENGTH = 14 + 1 + 200


class DatabaseSchemaTarget(BaseModel):
    """The ``target`` of a ``database_schema`` rollback (runbook procedure 2a: schema-only rollback)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_instance: InstanceId = Field(
        description="RDS instance whose schema is rolled back (a snapshot of it is taken first), e.g. skillancer-prod.",
        json_schema_extra={"cli_option": "--instance"},
    )
    migration: str = Field(
        min_length=16,
        max_length=MIGRATION_MAX_LENGTH,
        pattern=MIGRATION_PATTERN,
        description="The Prisma migration to roll back, as its folder in prisma/migrations is named, e.g. "
        "20261128093000_add_order_currency.",
        json_schema_extra={"cli_option": "--migration"},
    )
