"""The approved restore, step by step: start it (a new instance), follow it until available, check the restored
data, and only then switch the applications' connection to it. The source instance is never touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ConfigDict

from functions.capabilities.databases import instances
from functions.capabilities.databases.connection import with_endpoint
from functions.capabilities.databases.connection_store import ConnectionLocation, ConnectionStore
from functions.capabilities.databases.instances import RestoreFailed, RestoreSettings
from functions.capabilities.databases.integrity import IntegrityReport
from functions.capabilities.databases.restore_plan import duration_text
from functions.capabilities.kubernetes import restarts
from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, ChangeStepEvent, PlannedChange, StrictModel


class RestoreTimedOut(RollbackError):
    """The restored instance was not available within the configured time."""


class IntegrityCheckFailed(RollbackError):
    """The restored data failed its checks: the applications stay where they are."""


class RestartFailed(RollbackError):
    """A restarted application did not roll out in time: the connection is switched, its pods are not all new."""


class RestoreProgress(StrictModel):
    """Where the restored instance stands."""

    restored: str
    status: str
    available: bool
    address: str | None = None
    port: int | None = None
    started_at: datetime


class IntegrityOutcome(StrictModel):
    """What the data-integrity checks found in the restored copy (what approvers' switch depends on)."""

    passed: bool
    summary: str
    newest_write_at: datetime | None
    measured_rpo_seconds: float | None


class SwitchEvent(ChangeStepEvent):
    """The switch runs only with a restored instance whose data passed its checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    restored: RestoreProgress
    integrity: IntegrityOutcome


def start_restore(change: PlannedChange, rds: Any, rollback_id: str, now: datetime) -> ChangeRecord:
    """Creates the restored instance (a retry finds the one it created)."""
    parameters = change.parameters
    source, restored = str(parameters["source"]), str(parameters["restored"])
    settings = RestoreSettings.model_validate(parameters["settings"])
    snapshot = parameters.get("snapshot")
    if snapshot:
        facts = instances.restore_from_snapshot(
            rds, snapshot=str(snapshot), source=source, target=restored, settings=settings, rollback_id=rollback_id
        )
    else:
        facts = instances.restore_to_point_in_time(
            rds,
            source=source,
            target=restored,
            at=datetime.fromisoformat(str(parameters["restore_point"])),
            settings=settings,
            rollback_id=rollback_id,
        )
    data_loss = duration_text(float(str(parameters.get("data_loss_seconds", 0))))
    return ChangeRecord.of(
        change,
        "applied",
        f"restore of {restored} started ({facts.status}); data-loss window {data_loss}; "
        f"{source} left running, untouched, for forensics",
        now,
        parameters={"restored": restored, "source": source, "started_at": now.isoformat()},
    )


def follow_restore(record: ChangeRecord, rds: Any, now: datetime, timeout: timedelta) -> RestoreProgress:
    restored = str(record.parameters["restored"])
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    facts = instances.describe_instance(rds, restored)
    if facts.status in instances.FAILED_STATES:
        raise RestoreFailed(f"{restored} is {facts.status}: the restore cannot complete")
    available = facts.status == "available" and facts.address is not None
    if not available and now - started_at > timeout:
        raise RestoreTimedOut(f"{restored} is still {facts.status} after {duration_text(timeout.total_seconds())}")
    return RestoreProgress(
        restored=restored,
        status=facts.status,
        available=available,
        address=facts.address,
        port=facts.port,
        started_at=started_at,
    )


def check_integrity(
    restored: RestoreProgress,
    store: ConnectionStore,
    incident_at: datetime,
    run_checks: Callable[[str, datetime], IntegrityReport],
) -> IntegrityOutcome:
    """Runs the configured checks against the restored instance, with the applications' own credentials. A failed
    check stops the rollback here: nothing has been switched."""
    if restored.address is None or restored.port is None:
        raise RestoreFailed(f"{restored.restored} has no endpoint")
    url = with_endpoint(store.read().url, restored.address, restored.port)
    report = run_checks(url, incident_at)
    results = [
        f"{r.name}: {'ok' if r.passed else 'FAILED'} ({r.observed}; expected {r.expected})" for r in report.results
    ]
    outcome = IntegrityOutcome(
        passed=report.passed,
        summary="; ".join(results),
        newest_write_at=report.newest_write_at,
        measured_rpo_seconds=report.measured_rpo_seconds,
    )
    if not report.passed:
        raise IntegrityCheckFailed(f"{restored.restored} failed its data-integrity checks: {outcome.summary}")
    return outcome


def switch_connection(event: SwitchEvent, client: Any, now: datetime) -> ChangeRecord:
    """Points the applications at the restored instance: a new version of the connection setting, written only if
    it is still the version approvers saw."""
    change = event.change
    if not event.integrity.passed or not event.restored.available:
        raise IntegrityCheckFailed("the restored instance is not available with checked data: nothing switched")
    location = ConnectionLocation.model_validate(change.parameters["location"])
    store = ConnectionStore(location, client)
    assert event.restored.address is not None and event.restored.port is not None  # available
    url = with_endpoint(store.read().url, event.restored.address, event.restored.port)
    written = store.switch(
        url,
        approved_version=str(change.parameters["approved_version"]),
        request_token=f"{event.request.rollback_id}/{change.target}",
    )
    rpo = event.integrity.measured_rpo_seconds
    measured = f"measured RPO {duration_text(rpo)}" if rpo is not None else "RPO not measured"
    newest = event.integrity.newest_write_at
    return ChangeRecord.of(
        change,
        "applied",
        f"now version {written.version}, pointing at {event.restored.restored}; {measured}"
        + (f" (newest write {newest.isoformat(timespec='seconds')})" if newest else "")
        + f"; checks: {event.integrity.summary}",
        now,
        parameters={"version": written.version, "newest_write_at": newest.isoformat() if newest else None},
        data_loss_seconds=rpo,
    )


def restart_application(change: PlannedChange, apps: Any, now: datetime) -> ChangeRecord:
    """``kubectl rollout restart`` of one Deployment, after the switch: its new pods read the new URL."""
    namespace, name = str(change.parameters["namespace"]), str(change.parameters["deployment"])
    generation = restarts.rollout_restart(apps, namespace, name, now)
    return ChangeRecord.of(
        change,
        "applied",
        f"restarted (generation {generation})",
        now,
        parameters={"namespace": namespace, "deployment": name, "started_at": now.isoformat()},
    )


class RestartProgress(StrictModel):
    done: bool
    message: str


def follow_restart(record: ChangeRecord, apps: Any, now: datetime, timeout: timedelta) -> RestartProgress:
    namespace, name = str(record.parameters["namespace"]), str(record.parameters["deployment"])
    state = restarts.restart_state(apps, namespace, name)
    if state.deadline_exceeded:
        raise RestartFailed(state.message)
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    if not state.done and now - started_at > timeout:
        raise RestartFailed(f"{state.message} (after {duration_text(timeout.total_seconds())})")
    return RestartProgress(done=state.done, message=state.message)
