"""What a database restore will do, as approvers must see it before they decide: the new instance and the
settings it copies, the restore point, the **data-loss window** and whether it breaks the RPO (which then needs
more authority), how long the restore may take against the RTO, and the connection switch."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from functions.capabilities.databases.connection import endpoint_of
from functions.capabilities.databases.connection_store import ConnectionStore, ConnectionValue
from functions.capabilities.databases.instances import InstanceFacts
from functions.capabilities.databases.restore_config import RESTORED_SUFFIX, ApplicationRestart, DatabaseSettings
from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest

RESTORE_KIND = "database.restore"
SWITCH_KIND = "database.connection-switch"
RESTART_KIND = "kubernetes.rollout-restart"


@dataclass(frozen=True)
class RestorePoint:
    """The data the restored instance will hold: ``source`` as it was ``at`` (a point in time, or a snapshot)."""

    source: str
    at: datetime
    snapshot: str | None = None

    @property
    def kind(self) -> Literal["point-in-time", "snapshot"]:
        return "snapshot" if self.snapshot else "point-in-time"

    def describe(self) -> str:
        when = self.at.isoformat(timespec="seconds")
        return f"snapshot {self.snapshot} ({when})" if self.snapshot else f"{self.source} as of {when}"


def restored_instance_name(source: str, rollback_id: str) -> str:
    """The new instance's name, the same for every run of one rollback (a retried restore finds its instance)."""
    return f"{source}{RESTORED_SUFFIX}{hashlib.sha256(rollback_id.encode()).hexdigest()[:8]}"


def restore_estimate_minutes(allocated_gib: int) -> int:
    """The runbook's 10-30 minutes, growing with the data: 10 minutes plus one per 100 GiB, 30 at most."""
    return min(30, 10 + math.ceil(allocated_gib / 100))


def duration_text(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def plan_restore(
    request: RollbackRequest,
    *,
    source: InstanceFacts,
    point: RestorePoint,
    connection: ConnectionStore,
    current: ConnectionValue,
    settings: DatabaseSettings,
    rto_seconds: int,
    restart: ApplicationRestart | None = None,
    cluster: str | None = None,
) -> RollbackPlan:
    restored = restored_instance_name(source.identifier, request.rollback_id)
    incident = request.detected_at
    window = max(0.0, (incident - point.at).total_seconds())
    warnings = [
        f"Data-loss window: writes between {point.at.isoformat(timespec='seconds')} and the incident at "
        f"{incident.isoformat(timespec='seconds')} ({duration_text(window)}) are not in the restored copy; "
        f"{source.identifier} keeps them, untouched."
    ]
    required_roles: list[str] = []
    if window > settings.rpo_seconds:
        required_roles = list(settings.rpo_breach_roles)
        warnings.append(
            f"This restore loses {duration_text(window)} of writes, more than the {duration_text(settings.rpo_seconds)}"
            f" RPO: {', '.join(required_roles)} must also approve."
        )
    if point.at > incident:
        warnings.append(
            "The restore point is after the incident began: data written since then, possibly the cause, is kept."
        )
    estimate = restore_estimate_minutes(source.allocated_storage_gib)
    if estimate * 60 >= rto_seconds:
        warnings.append(
            f"Restoring {source.allocated_storage_gib} GiB takes about {estimate} min (runbook: 10-30 min): the "
            f"restore alone may exceed the {duration_text(rto_seconds)} RTO."
        )
    host, port = endpoint_of(current.url)
    if source.address and (host, port) != (source.address, source.port):
        warnings.append(
            f"{connection.location.describe()} points at {host}:{port}, not at {source.identifier} "
            f"({source.address}:{source.port})."
        )
    data_loss = f"data-loss window {duration_text(window)} (RPO {duration_text(settings.rpo_seconds)})"
    restore = PlannedChange(
        target=f"RDS instance {restored}",
        kind=f"{RESTORE_KIND}-{point.kind}",
        before=f"not there yet ({source.identifier} keeps running, untouched)",
        after=f"new instance with {point.describe()}",
        detail=f"{data_loss}; about {estimate} min to restore; copies {source.settings.describe()}",
        revert=f"aws rds delete-db-instance --db-instance-identifier {restored} "
        f"--final-db-snapshot-identifier {restored}-final (once nothing connects to it)",
        resource=f"rds:db:{source.identifier}",
        parameters={
            "source": source.identifier,
            "restored": restored,
            "restore_point": point.at.isoformat(),
            "snapshot": point.snapshot,
            "data_loss_seconds": window,
            "settings": source.settings.model_dump(mode="json"),
        },
    )
    switch = PlannedChange(
        target=connection.location.describe(),
        kind=SWITCH_KIND,
        before=f"{host}:{port} ({source.identifier}), version {current.version}",
        after=f"{restored}, once its data-integrity checks pass",
        detail="a new version; the previous one is kept",
        revert=connection.revert_command(current.version),
        resource=f"connection:{connection.location.lock_key}",
        parameters={
            "source": source.identifier,
            "restored": restored,
            "approved_version": current.version,
            "location": connection.location.model_dump(mode="json"),
        },
    )
    restarts = restart_changes(restart, cluster, restored)
    return RollbackPlan(
        changes=[restore, switch, *restarts],
        feature_flag_options=request.feature_flags,
        summary=f"restore {point.describe()} into {restored}, check its data, then switch "
        f"{connection.location.describe()} to it"
        + (f", restart {', '.join(restart.deployments)}" if restart else "")
        + f"; {data_loss}",
        warnings=warnings,
        required_roles=required_roles,
    )


def restart_changes(restart: ApplicationRestart | None, cluster: str | None, restored: str) -> list[PlannedChange]:
    """One restart per Deployment that reads the URL at start (each locked like any change to that Deployment)."""
    if restart is None:
        return []
    return [
        PlannedChange(
            target=f"Deployment {restart.namespace}/{deployment}",
            kind=RESTART_KIND,
            before="pods connected with the previous database URL",
            after=f"pods restarted, connected to {restored}",
            detail="kubectl rollout restart, once the connection is switched",
            revert=f"after reverting the connection: kubectl rollout restart deployment/{deployment} "
            f"-n {restart.namespace}",
            resource=f"kubernetes:{cluster}/{restart.namespace}/deployment/{deployment}",
            parameters={"namespace": restart.namespace, "deployment": deployment},
        )
        for deployment in restart.deployments
    ]
