"""RDS instances with real data behind them: each emulated (moto) instance is paired with its own throwaway
PostgreSQL server, so the product's data-integrity checks, and the RPO it measures, run against a real database.

moto's RDS has no data plane: a restore copies metadata and is ``available`` at once. Here:

* a **source** instance is created in moto and seeded with a write history (rows with the time they were written);
* a **point-in-time restore** gets a new server holding the rows written up to the restore time, a **snapshot
  restore** the rows written up to the snapshot's time: what RDS replays from its backups;
* each instance's endpoint (``Address``/``Port``) is its server's 127.0.0.1 port;
* a restore behaves as RDS's does for the settings it is not given: moto copies the source's parameter group,
  security groups, Multi-AZ, IAM authentication and tags into a point-in-time restore; RDS does not (it falls back
  to defaults), so neither do these instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from local.postgres import PRODUCT_DATABASE, PRODUCT_PASSWORD, PRODUCT_ROLE, PostgresCluster, PostgresFarm

SCHEMA = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL, amount_cents integer NOT NULL,
                     created_at timestamptz NOT NULL);
"""
# What RDS does not carry into a point-in-time restore unless the call names it (moto does): attribute -> default.
RESTORE_DEFAULTS: dict[str, tuple[str, Any]] = {
    "db_parameter_group_name": ("db_parameter_group_name", None),
    "vpc_security_group_ids": ("vpc_security_group_ids", []),
    "multi_az": ("multi_az", False),
    "enable_iam_database_authentication": ("enable_iam_database_authentication", False),
    "tags": ("tags", []),
    "copy_tags_to_snapshot": ("copy_tags_to_snapshot", False),
    "deletion_protection": ("deletion_protection", False),
}


@dataclass(frozen=True)
class Write:
    """One row written at ``at``: a user signing up, or an order."""

    table: str
    at: datetime


def steady_writes(until: datetime, *, hours: float = 2, every_seconds: int = 20) -> list[Write]:
    """A service's writes for ``hours`` up to ``until``: an order every ``every_seconds``, a user every 5th."""
    count = int(hours * 3600 / every_seconds)
    writes: list[Write] = []
    for n in range(count, -1, -1):
        at = until - timedelta(seconds=n * every_seconds)
        writes.append(Write("orders", at))
        if n % 5 == 0:
            writes.append(Write("users", at))
    return writes


@dataclass
class PairedInstance:
    identifier: str
    server: PostgresCluster
    writes: list[Write]

    @property
    def url(self) -> str:
        """The URL the applications read from their secret (the product's role, with its password)."""
        return self.server.url()


@dataclass
class EmulatedDatabases:
    """moto's RDS instances paired with real PostgreSQL servers (see the module's docstring)."""

    farm: PostgresFarm
    region: str = "us-east-1"
    account: str = "123456789012"
    instances: dict[str, PairedInstance] = field(default_factory=dict)

    # --- sources -----------------------------------------------------------------------------------------

    def create_source(
        self, rds: Any, identifier: str, writes: list[Write], *, created_at: datetime | None = None
    ) -> PairedInstance:
        """A production instance with settings a restore must copy, holding ``writes``; its automated backups
        reach back to ``created_at`` (default: the first write)."""
        groups = rds.create_db_parameter_group(
            DBParameterGroupName=f"{identifier}-params", DBParameterGroupFamily="postgres15", Description="tuned"
        )["DBParameterGroup"]["DBParameterGroupName"]
        rds.create_db_instance(
            DBInstanceIdentifier=identifier, Engine="postgres", EngineVersion="15.4", DBInstanceClass="db.r6g.xlarge",
            AllocatedStorage=100, StorageType="gp3", MasterUsername=PRODUCT_ROLE, MasterUserPassword=PRODUCT_PASSWORD,
            DBName=PRODUCT_DATABASE, DBParameterGroupName=groups, VpcSecurityGroupIds=["sg-0app", "sg-0bastion"],
            MultiAZ=True, EnableIAMDatabaseAuthentication=True, BackupRetentionPeriod=7, CopyTagsToSnapshot=True,
            DeletionProtection=True, Tags=[{"Key": "service", "Value": "skillancer"},
                                           {"Key": "data-classification", "Value": "confidential"}],
        )  # fmt: skip
        paired = self._pair(identifier, writes)
        self._moto_instance(identifier).instance_create_time = _naive_utc(created_at or min(w.at for w in writes))
        return paired

    def write(self, identifier: str, writes: list[Write]) -> None:
        """More writes reach ``identifier`` (e.g. the bad ones after the incident began)."""
        paired = self.instances[identifier]
        _insert(paired.server, writes)
        paired.writes.extend(writes)

    def take_snapshot(self, rds: Any, identifier: str, snapshot: str, at: datetime) -> None:
        """A manual snapshot of ``identifier`` as it was at ``at``."""
        rds.create_db_snapshot(DBInstanceIdentifier=identifier, DBSnapshotIdentifier=snapshot)
        self._backend().database_snapshots[snapshot].created = _naive_utc(at)

    # --- the data plane behind moto's restores -----------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[EmulatedDatabases]:
        """Pair restores with servers and give instances their servers' endpoints while this is open."""
        from moto.rds.models import DBInstance, RDSBackend

        original_pitr = RDSBackend.restore_db_instance_to_point_in_time
        original_snapshot = RDSBackend.restore_db_instance_from_db_snapshot
        original_address = DBInstance.address
        pairs = self

        def restore_to_point_in_time(backend: Any, source: str, target: str, overrides: dict[str, Any]) -> Any:
            created = original_pitr(backend, source, target, overrides)
            pairs._as_rds_restores(created, overrides)
            at = overrides.get("restore_time")
            moment = _moment(at) if at else datetime.now(UTC)
            pairs._restored(target, source, moment)
            return created

        def restore_from_snapshot(backend: Any, snapshot_id: str, overrides: dict[str, Any]) -> Any:
            snapshot = backend.describe_db_snapshots(db_instance_identifier=None, db_snapshot_identifier=snapshot_id)[0]
            created = original_snapshot(backend, snapshot_id, overrides)
            pairs._as_rds_restores(created, overrides)
            pairs._restored(created.db_instance_identifier, snapshot.db_instance_identifier, _moment(snapshot.created))
            return created

        def address(instance: Any) -> str:
            if instance.db_instance_identifier in pairs.instances:
                return "127.0.0.1"
            return str(original_address.fget(instance))  # type: ignore[attr-defined]

        with ExitStack() as patches:
            patches.enter_context(
                mock.patch.object(RDSBackend, "restore_db_instance_to_point_in_time", restore_to_point_in_time)
            )
            patches.enter_context(
                mock.patch.object(RDSBackend, "restore_db_instance_from_db_snapshot", restore_from_snapshot)
            )
            patches.enter_context(mock.patch.object(DBInstance, "address", property(address)))
            yield self

    def _pair(self, identifier: str, writes: list[Write]) -> PairedInstance:
        server = self.farm.new_cluster()
        with server.admin(PRODUCT_DATABASE) as admin:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    admin.run(statement)
            admin.run(f"ALTER TABLE users OWNER TO {PRODUCT_ROLE}")
            admin.run(f"ALTER TABLE orders OWNER TO {PRODUCT_ROLE}")
        paired = PairedInstance(identifier=identifier, server=server, writes=list(writes))
        _insert(server, writes)
        self.instances[identifier] = paired
        self._moto_instance(identifier).port = server.port
        return paired

    def _restored(self, target: str, source: str, as_of: datetime) -> None:
        if source not in self.instances:
            return
        kept = [w for w in self.instances[source].writes if w.at <= as_of]
        self._pair(target, kept)

    @staticmethod
    def _as_rds_restores(instance: Any, overrides: dict[str, Any]) -> None:
        for parameter, (attribute, default) in RESTORE_DEFAULTS.items():
            if not overrides.get(parameter):
                setattr(instance, attribute, default)

    def _backend(self) -> Any:
        from moto.backends import get_backend

        return get_backend("rds")[self.account][self.region]

    def _moto_instance(self, identifier: str) -> Any:
        return self._backend().databases[identifier]


def _insert(server: PostgresCluster, writes: list[Write]) -> None:
    with server.admin(PRODUCT_DATABASE) as connection:
        for write in writes:
            if write.table == "users":
                connection.run(
                    "INSERT INTO users (email, created_at) VALUES (:email, :at)",
                    email=f"user-{write.at.timestamp():.0f}@example.com",
                    at=write.at,
                )
            else:
                connection.run(
                    "INSERT INTO orders (user_id, amount_cents, created_at) VALUES (1, 4200, :at)", at=write.at
                )


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _naive_utc(moment: datetime) -> datetime:
    """moto keeps its times as naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)
