"""Deployment configuration shared by the restore types (``database_pitr``, ``database_snapshot``): which
instances may be restored, where their applications read the database URL, the data-integrity checks a restored
copy must pass before the applications are switched to it, and the recovery objectives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.capabilities.databases.connection_store import ConnectionLocation
from functions.capabilities.databases.integrity import IntegrityCheck
from functions.capabilities.kubernetes.settings import ClusterConfig
from functions.errors import InvalidRollbackInput
from functions.models.rollback import NAME_PATTERN
from functions.rollbacks.contract import ClusterAccess, NetworkPlacement, Permission, TypeConfig
from functions.settings import EnvironmentVariables as Env
from functions.settings import FunctionSettings

INSTANCE_ID_PATTERN = r"^[a-z](-?[a-z0-9])*$"  # RDS: a letter, no double or trailing hyphen
InstanceId = Annotated[str, Field(pattern=INSTANCE_ID_PATTERN, max_length=51)]
RESTORED_SUFFIX = "-rb-"  # restored instances are named <source>-rb-<8 hex>: 63 characters at most


class ApplicationRestart(BaseModel):
    """The Deployments that read the database URL at start: restarted (``kubectl rollout restart``) once the
    connection is switched, so they pick it up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field(pattern=NAME_PATTERN, max_length=63)
    deployments: list[Annotated[str, Field(pattern=NAME_PATTERN, max_length=253)]] = Field(min_length=1, max_length=20)


class DatabaseInstanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connection: ConnectionLocation
    integrity_checks: list[IntegrityCheck] = Field(min_length=1, max_length=20)
    restart: ApplicationRestart | None = Field(
        default=None, description="Applications to restart after the switch; unset: they re-read it themselves."
    )


class DatabaseRestoreConfig(TypeConfig):
    instances: dict[InstanceId, DatabaseInstanceConfig] = Field(
        min_length=1, description="The RDS instances this type may restore, by identifier."
    )
    rpo_seconds: int = Field(default=300, gt=0, description="Recovery point objective: data loss allowed.")
    rpo_breach_roles: list[str] = Field(
        default_factory=lambda: ["cto"],
        min_length=1,
        description="Who must also approve a restore that loses more than the RPO (the data-corruption row's roles).",
    )
    restore_timeout_seconds: int = Field(
        default=2700, ge=300, description="How long a restore may take before the rollback fails (runbook: 10-30 min)."
    )
    cluster: ClusterConfig | None = Field(default=None, description="Where the applications to restart run.")
    network: NetworkPlacement | None = Field(
        default=None,
        description="Subnets and security groups from which the integrity checks reach the restored instance (and "
        "the restarts a private cluster endpoint).",
    )
    restart_timeout_seconds: int = Field(default=600, gt=0, description="How long a restart's rollout may take.")

    @model_validator(mode="after")
    def _restarts_need_a_cluster(self) -> Self:
        if self.cluster is None and any(c.restart for c in self.instances.values()):
            raise ValueError("cluster: required when an instance's applications are restarted")
        return self

    def environment(self) -> Mapping[str, str]:
        settings = DatabaseSettings(
            database_instances={name: config.model_dump(mode="json") for name, config in self.instances.items()},
            rpo_seconds=self.rpo_seconds,
            rpo_breach_roles=self.rpo_breach_roles,
            restore_timeout_seconds=self.restore_timeout_seconds,
        ).as_environment()
        if self.cluster is None:
            return settings
        return {**settings, **self.cluster.environment(self.restart_timeout_seconds)}

    def network_placement(self, function: str) -> NetworkPlacement | None:
        inside = {"CheckIntegrity", "Plan", "RestartApplication", "CheckRestart"}
        return self.network if function in inside else None

    def cluster_access(self, function: str) -> ClusterAccess | None:
        """The restarts' functions, in the namespaces of the configured restarts: ``Plan`` and ``CheckRestart``
        read, ``RestartApplication`` patches (``kubectl rollout restart``)."""
        namespaces = sorted({c.restart.namespace for c in self.instances.values() if c.restart})
        if self.cluster is None or not namespaces or function not in {"Plan", "RestartApplication", "CheckRestart"}:
            return None
        return ClusterAccess(
            self.cluster.name,
            tuple(namespaces),
            patches=function == "RestartApplication",
            in_stack=self.cluster.access_entries,
        )

    def own_states_seconds(self) -> int:
        return self.restore_timeout_seconds + (self.restart_timeout_seconds if self.cluster else 0)

    def connection_permissions(self) -> list[Permission]:
        secrets = [f"secret:{c.connection.name}-??????" for c in self.instances.values()
                   if c.connection.store == "secretsmanager"]  # fmt: skip
        parameters = [f"parameter/{c.connection.name.lstrip('/')}" for c in self.instances.values()
                      if c.connection.store == "ssm"]  # fmt: skip
        found: list[Permission] = []
        if secrets:
            found.append(Permission(("secretsmanager:GetSecretValue",), "secretsmanager", tuple(secrets)))
        if parameters:
            found.append(Permission(("ssm:GetParameter",), "ssm", tuple(parameters)))
        return found

    def switch_permissions(self) -> list[Permission]:
        secrets = [f"secret:{c.connection.name}-??????" for c in self.instances.values()
                   if c.connection.store == "secretsmanager"]  # fmt: skip
        parameters = [f"parameter/{c.connection.name.lstrip('/')}" for c in self.instances.values()
                      if c.connection.store == "ssm"]  # fmt: skip
        found = self.connection_permissions()
        if secrets:
            found.append(Permission(("secretsmanager:PutSecretValue",), "secretsmanager", tuple(secrets)))
        if parameters:
            found.append(Permission(("ssm:PutParameter",), "ssm", tuple(parameters)))
        return found

    def describe_permissions(self) -> list[Permission]:
        sources = tuple(f"db:{name}" for name in self.instances)
        restored = tuple(f"db:{name}{RESTORED_SUFFIX}*" for name in self.instances)
        return [
            Permission(
                ("rds:DescribeDBInstances",),
                "rds",
                sources + restored,
                reason="restored instances are named <source>-rb-<rollback>",
            )
        ]

    def plan_permissions(self) -> list[Permission]:
        return [
            *self.describe_permissions(),
            *self.connection_permissions(),
            Permission(
                ("rds:DescribeDBInstanceAutomatedBackups", "rds:DescribeDBSnapshots"),
                "rds",
                (*tuple(f"db:{name}" for name in self.instances), "auto-backup:*", "snapshot:*"),
                reason="backups and snapshots are named by RDS; they are listed for the configured instances only",
            ),
        ]

    def restore_permissions(self, action: str) -> list[Permission]:
        """``action`` (a restore) from the configured instances into ``<source>-rb-*`` only. RDS also authorizes
        it against the backup, snapshot, subnet, parameter and option groups the restored instance copies."""
        sources = tuple(f"db:{name}" for name in self.instances)
        restored = tuple(f"db:{name}{RESTORED_SUFFIX}*" for name in self.instances)
        return [
            *self.describe_permissions(),
            Permission(
                (action,),
                "rds",
                sources + restored + ("snapshot:*", "subgrp:*", "pg:*", "og:*", "secgrp:*", "auto-backup:*"),
                reason="a restore is authorized against every group and backup it copies, named by RDS",
            ),
            Permission(
                ("rds:AddTagsToResource",), "rds", restored, reason="tags the instance it restores (<source>-rb-*)"
            ),
        ]


class DatabaseSettings(FunctionSettings):
    """Runtime settings of the restore types' functions."""

    database_instances: dict[str, DatabaseInstanceConfig] = Field(min_length=1)
    rpo_seconds: int = Field(default=300, gt=0)
    rpo_breach_roles: list[str] = Field(default_factory=lambda: ["cto"])
    restore_timeout_seconds: int = Field(default=2700, gt=0)
    rto_seconds: int = Field(default=15 * 60, gt=0, validation_alias=Env.RTO_SECONDS)
    cluster_name: str | None = Field(default=None, description="The cluster of the applications to restart.")

    def instance(self, identifier: str) -> DatabaseInstanceConfig:
        if identifier not in self.database_instances:
            raise InvalidRollbackInput(
                f"target.source_instance: {identifier} is not configured for restores "
                f"(configured: {', '.join(sorted(self.database_instances))})"
            )
        return self.database_instances[identifier]


def permissions_by_function(config: DatabaseRestoreConfig, restore_action: str) -> dict[str, Sequence[Permission]]:
    """What each function of a restore type may do (its name -> permissions)."""
    return {
        "Plan": config.plan_permissions(),
        "RestoreInstance": config.restore_permissions(restore_action),
        "CheckRestore": config.describe_permissions(),
        "CheckIntegrity": config.connection_permissions(),
        "SwitchConnection": config.switch_permissions(),
    }  # RestartApplication, CheckRestart: the cluster authorizes them (an EKS access entry for their roles)
