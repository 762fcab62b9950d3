"""The changes a rollback made, recorded in the audit trail the moment they reach the world (one append-only
item per event), so that every report, whatever happened afterwards, says what really changed."""

from __future__ import annotations

from datetime import datetime

from functions.adapters.audit import AuditLog
from functions.models.rollback import ChangeRecord, PlannedChange

EVENT_PREFIX = "change "
MAX_DETAIL = 1000


def bounded(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"... [{len(text)} chars]"


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
        record = ChangeRecord.of(change, "unconfirmed", bounded(detail), at)
        self._write(rollback_id, record, at)

    def finished(self, rollback_id: str, record: ChangeRecord, at: datetime) -> None:
        self._write(rollback_id, record.model_copy(update={"detail": bounded(record.detail)}), at)

    def failed(self, rollback_id: str, change: PlannedChange, error: str, at: datetime) -> None:
        self._write(rollback_id, ChangeRecord.of(change, "failed", bounded(error), at), at)

    def outcome(self, rollback_id: str, target: str) -> ChangeRecord | None:
        """How ``target``'s change ended, if it ended (applied or skipped): a retried step returns this."""
        record = next((c for c in self.changes(rollback_id) if c.target == target), None)
        return record if record is not None and record.status in ("applied", "skipped") else None

    def changes(self, rollback_id: str) -> list[ChangeRecord]:
        """The last word on each change (events are kept in time order), in the order they started."""
        latest: dict[str, ChangeRecord] = {}
        for event in self._audit.events(rollback_id):
            if event["event"].startswith(EVENT_PREFIX):
                record = ChangeRecord.model_validate(event["detail"])
                latest[record.target] = record
        return list(latest.values())
