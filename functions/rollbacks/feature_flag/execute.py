"""Setting the approved flags, one change step each, and putting them back when a later one fails.

A flag is written only if it still holds what approvers saw (one someone changed since, even to the wanted value,
is refused: the record would otherwise claim a change this rollback did not make, and its revert would undo
someone else's); a retry after an attempt whose write got no answer, finding the flag as wanted, writes nothing
again. The put-back (the workflow's
compensation) restores, for every flag this rollback set, the value it held before, each one recorded in the audit
trail as its own change ("flag X (put back)"); a flag someone changed since is left as it is and said so.
"""

from __future__ import annotations

from datetime import UTC, datetime

from functions.adapters.change_log import ChangeLog
from functions.models.rollback import ChangeRecord, PlannedChange
from functions.rollbacks.feature_flag.adapters import (
    FlagChangedSinceApproval,
    FlagNotAsWritten,
    FlagProvider,
    as_text,
)
from functions.rollbacks.feature_flag.adapters.providers import describe
from functions.transient import is_transient

PUT_BACK_KIND = "feature_flag.put_back"


def _flag(change: PlannedChange | ChangeRecord) -> tuple[str, bool, bool]:
    parameters = change.parameters
    return str(parameters["flag"]), bool(parameters["previous"]), bool(parameters["enabled"])


def set_flag(change: PlannedChange, provider: FlagProvider, now: datetime, *, unanswered_before: bool) -> ChangeRecord:
    """``unanswered_before``: an earlier attempt of this step wrote and got no answer (its write may have landed)."""
    name, previous, wanted = _flag(change)
    facts = dict(change.parameters)
    if change.skip:
        return ChangeRecord.of(change, "skipped", f"{name} was already {as_text(wanted)}: nothing written", now, facts)
    current = provider.read(name)
    if current == wanted and unanswered_before:
        detail = f"{name} is already {as_text(wanted)} (an earlier attempt's write): nothing written again"
        return ChangeRecord.of(change, "applied", detail, now, facts)
    if current != previous:
        raise FlagChangedSinceApproval(
            f"{name} is {as_text(current)}, approvers saw {as_text(previous)}: "
            "someone changed it since; nothing written"
        )
    provider.write(name, wanted, expected=previous)
    detail = f"{name}: {as_text(previous)} -> {as_text(wanted)} in {describe(provider)}"
    return ChangeRecord.of(change, "applied", detail, now, facts)


def check_flags(records: list[ChangeRecord], provider: FlagProvider) -> list[str]:
    """Reads back every flag set; raises :class:`FlagNotAsWritten` for one that is not."""
    seen = []
    for record in records:
        name, _, wanted = _flag(record)
        current = provider.read(name)
        if current != wanted:
            raise FlagNotAsWritten(f"{name} reads {as_text(current)} after it was set to {as_text(wanted)}")
        seen.append(f"{name}={as_text(current)}")
    return seen


def put_back_change(change: PlannedChange) -> PlannedChange:
    name, previous, wanted = _flag(change)
    return PlannedChange(
        target=f"{change.target} (put back)",
        kind=PUT_BACK_KIND,
        before=as_text(wanted),
        after=as_text(previous),
        detail=f"the rollback failed after this flag was set: {name} goes back to {as_text(previous)}",
        revert=f"none needed: {name} is as it was before the rollback",
        resource=change.resource,
        parameters=dict(change.parameters),
    )


def put_back(
    rollback_id: str, changes: list[PlannedChange], provider: FlagProvider, log: ChangeLog
) -> list[ChangeRecord]:
    """For every flag whose change was started, back to the value it held before. Idempotent: a put-back already
    recorded as applied or skipped is not done again. Raises the first error once every flag was tried."""
    # applied, or unconfirmed (a write that got no answer may have landed); a failed change wrote nothing
    started = {r.target for r in log.changes(rollback_id) if r.status in ("applied", "unconfirmed")}
    records: list[ChangeRecord] = []
    first_error: Exception | None = None
    for change in changes:
        if change.skip or change.target not in started:
            continue  # never touched
        undo = put_back_change(change)
        done = log.outcome(rollback_id, undo.target)
        if done is not None:
            records.append(done)
            continue
        name, previous, wanted = _flag(change)
        now = datetime.now(UTC)
        log.started(rollback_id, undo, now)
        try:
            current = provider.read(name)
            if current == previous:
                record = ChangeRecord.of(
                    undo, "skipped", f"{name} is {as_text(previous)}: the change never reached it", now
                )
            elif current == wanted:
                provider.write(name, previous, expected=wanted)
                record = ChangeRecord.of(
                    undo, "applied", f"{name}: {as_text(wanted)} -> {as_text(previous)} in {describe(provider)}", now
                )
            else:
                raise FlagChangedSinceApproval(f"{name} is {as_text(current)}: changed by someone else, left as it is")
        except Exception as error:
            if is_transient(error):
                log.started(rollback_id, undo, datetime.now(UTC), detail=f"no answer ({error}); it may have been made")
                raise
            record = ChangeRecord.of(undo, "failed", f"{type(error).__name__}: {error}", now)
            first_error = first_error or error
        log.finished(rollback_id, record, datetime.now(UTC))
        records.append(record)
    if first_error is not None:
        raise first_error
    return records
