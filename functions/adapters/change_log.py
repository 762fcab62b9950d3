"""The changes a rollback made, recorded in the audit trail the moment they reach the world (one append-only
item per event), so that every report, whatever happened afterwards, says what really changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.adapters.audit import AuditLog
from functions.models.rollback import ChangeRecord, PlannedChange
from functions.text import bounded

EVENT_PREFIX = "change "
MAX_DETAIL = 1000


class ChangeLog:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def _write(self, rollback_id: str, record: ChangeRecord, at: datetime) -> None:
        self._audit.record(rollback_id, EVENT_PREFIX + record.status, at, record.model_dump(mode="json"))

    def started(
        self, rollback_id: str, change: PlannedChange, at: datetime, detail: str = "started; no outcome recorded"
    ) -> None:
        """Before the world is touched (or after a call that got no answer): unless a later record says how it
        ended, the change is reported unconfirmed."""
        record = ChangeRecord.of(change, "unconfirmed", bounded(detail, MAX_DETAIL), at)
        self._write(rollback_id, record, at)

    def finished(self, rollback_id: str, record: ChangeRecord, at: datetime) -> None:
        self._write(rollback_id, record.model_copy(update={"detail": bounded(record.detail, MAX_DETAIL)}), at)

    def failed(self, rollback_id: str, change: PlannedChange, error: str, at: datetime) -> None:
        self._write(rollback_id, ChangeRecord.of(change, "failed", bounded(error, MAX_DETAIL), at), at)

    def outcome(self, rollback_id: str, target: str) -> ChangeRecord | None:
        """How ``target``'s change ended, if it ended (applied or skipped): a retried step returns this."""
        record = next((c for c in self.changes(rollback_id) if c.target == target), None)
        return record if record is not None and record.status in ("applied", "skipped") else None

    def changes(self, rollback_id: str) -> list[ChangeRecord]:
        return latest_changes(self._audit.events(rollback_id))


def latest_changes(events: list[dict[str, Any]]) -> list[ChangeRecord]:
    """From a rollback's audit events (kept in time order): the last word on each change, in the order they
    started."""
    latest: dict[str, ChangeRecord] = {}
    for event in events:
        if event["event"].startswith(EVENT_PREFIX):
            record = ChangeRecord.model_validate(event["detail"])
            latest[record.target] = record
    return list(latest.values())
