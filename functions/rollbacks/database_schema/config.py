"""Deployment configuration of ``database_schema`` (``rollback.types.database_schema`` in ``cdk.json``): which
instances may have their schema rolled back, the CodeBuild project that runs each one's migration rollback (its
image, source checkout, network access to the database and ``DATABASE_URL``: the team's own project), the commands
it runs, and how long the snapshot and the job may take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from functions.capabilities.databases.connection_store import ConnectionLocation
from functions.capabilities.databases.restore_config import InstanceId
from functions.errors import InvalidRollbackInput
from functions.rollbacks.contract import Permission, TypeConfig
from functions.settings import FunctionSettings

SNAPSHOT_INFIX = "-pre-schema-rollback-"  # snapshots are named <source>-pre-schema-rollback-<8 hex>
# Runbook procedure 2a; the job sets MIGRATION to the approved migration's name.
RUNBOOK_COMMANDS = (
    "npx prisma migrate status",
    'npx prisma migrate resolve --rolled-back "$MIGRATION"',
    "npx prisma db push --accept-data-loss",
)
ProjectName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")]
Command = Annotated[str, Field(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]+$")]


class SchemaInstanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    project: ProjectName = Field(description="The CodeBuild project that runs this database's migration rollback.")
    commands: list[Command] = Field(
        default_factory=lambda: list(RUNBOOK_COMMANDS),
        min_length=1,
        max_length=20,
        description="What the job runs, in order, stopping at the first failure ($MIGRATION: the migration's name).",
    )
    connection: ConnectionLocation | None = Field(
        default=None, description="Where the applications read this database's URL: locked while the job runs."
    )


class DatabaseSchemaConfig(TypeConfig):
    instances: dict[InstanceId, SchemaInstanceConfig] = Field(
        min_length=1, description="The RDS instances whose schema this type may roll back, by identifier."
    )
    snapshot_timeout_seconds: int = Field(
        default=1800, ge=60, description="How long the snapshot taken first may take to become available."
    )
    job_timeout_seconds: int = Field(default=1800, ge=60, description="How long the migration rollback job may run.")

    def environment(self) -> Mapping[str, str]:
        return SchemaSettings(
            schema_instances={name: config.model_dump(mode="json") for name, config in self.instances.items()},
            snapshot_timeout_seconds=self.snapshot_timeout_seconds,
            job_timeout_seconds=self.job_timeout_seconds,
        ).as_environment()

    def own_states_seconds(self) -> int:
        return self.snapshot_timeout_seconds + self.job_timeout_seconds

    def permissions(self, function: str) -> Sequence[Permission]:
        sources = tuple(f"db:{name}" for name in self.instances)
        snapshots = tuple(f"snapshot:{name}{SNAPSHOT_INFIX}*" for name in self.instances)
        projects = tuple(sorted({f"project/{c.project}" for c in self.instances.values()}))
        why = "the snapshots this type takes are named <source>-pre-schema-rollback-<rollback>"
        describe_snapshots = Permission(("rds:DescribeDBSnapshots",), "rds", sources + snapshots, reason=why)
        read_builds = Permission(("codebuild:BatchGetBuilds",), "codebuild", projects)
        return {
            "Plan": [
                Permission(("rds:DescribeDBInstances",), "rds", sources),
                Permission(("codebuild:BatchGetProjects",), "codebuild", projects),
            ],
            "TakeSnapshot": [
                describe_snapshots,
                Permission(("rds:CreateDBSnapshot",), "rds", sources + snapshots, reason=why),
                Permission(("rds:AddTagsToResource",), "rds", snapshots, reason=why),
            ],
            "CheckSnapshot": [describe_snapshots],
            "StartMigrationRollback": [
                Permission(
                    ("codebuild:StartBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"),
                    "codebuild",
                    projects,
                )
            ],
            "CheckMigrationRollback": [read_builds],
            "RecordMigrationRollback": [read_builds],
        }.get(function, ())


class SchemaSettings(FunctionSettings):
    """Runtime settings of the ``database_schema`` functions."""

    schema_instances: dict[str, SchemaInstanceConfig] = Field(min_length=1)
    snapshot_timeout_seconds: int = Field(default=1800, gt=0)
    job_timeout_seconds: int = Field(default=1800, gt=0)

    def instance(self, identifier: str) -> SchemaInstanceConfig:
        if identifier not in self.schema_instances:
            raise InvalidRollbackInput(
                f"target.source_instance: {identifier} is not configured for schema rollbacks "
                f"(configured: {', '.join(sorted(self.schema_instances))})"
            )
        return self.schema_instances[identifier]
