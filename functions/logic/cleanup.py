"""After an execution ended outside its own outcome chain: stopped by an operator (ABORTED), past its timeout
(TIMED_OUT), or failed where no Catch runs (e.g. an oversized state). Step Functions runs no state then, so
this runs from the execution's status-change event: it closes the approval request (its links decide nothing
any more), releases the locks the execution still holds, and records and announces how it ended, once.

Safe for executions whose chain did run (FAILED normally): each part is idempotent and finds nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.change_log import latest_changes
from functions.adapters.locks import LOCK_ACQUIRED, DynamoDBLockStore
from functions.logic.approvals import approval_id_for_execution
from functions.logic.closing import ClosingFacts
from functions.logic.report import REPORT_EVENT, build_report, notification_text, record_report, timeline_from_history
from functions.models.rollback import RollbackReport

EndedStatus = Literal["ABORTED", "TIMED_OUT", "FAILED"]


class ExecutionEnded(BaseModel):
    """The ``detail`` of a "Step Functions Execution Status Change" event."""

    executionArn: str  # noqa: N815 - the event's own field names
    stateMachineArn: str  # noqa: N815
    name: str
    status: EndedStatus
    error: str | None = None
    cause: str | None = None


class Keeper(Protocol):
    """Closes out and keeps the record (functions/closing_out.py's RecordKeeper)."""

    def facts(self, state: dict[str, Any], events: list[dict[str, Any]]) -> ClosingFacts: ...

    def keep(self, state: dict[str, Any], report: RollbackReport) -> RollbackReport: ...


class CleanedUp(BaseModel):
    execution_arn: str
    status: EndedStatus
    approval_closed: bool
    locks_released: list[str]
    reported: bool


def last_state(history: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The workflow's state document as the last state that finished left it (request, plan, approval...)."""
    state: dict[str, Any] = {}
    for event in history:
        output = (event.get("stateExitedEventDetails") or {}).get("output")
        if output:
            try:
                document = json.loads(output)
            except ValueError:
                continue
            if isinstance(document, dict) and "request" in document:
                state = document
    return state


def clean_up(
    ended: ExecutionEnded,
    history: list[dict[str, Any]],
    *,
    approvals: ApprovalStore,
    locks: DynamoDBLockStore,
    audit: AuditLog,
    notify: Callable[[str, str], None],
    rto_target_seconds: int,
    now: datetime,
    keeper: Keeper | None = None,
) -> CleanedUp:
    """``keeper`` closes the record out (error rate's peak, the incident's logs, the incident) and keeps it for the
    post-mortem, for the first report of the rollback only."""
    approval_id = approval_id_for_execution(ended.executionArn)
    record = approvals.get(approval_id)
    # Pending: its links must stop working. Approved but stopped before it ran: nothing stays approved.
    closed = record is not None and (
        record.status == "PENDING" or (record.status == "APPROVED" and ended.status != "FAILED")
    )
    if closed:
        approvals.mark_ended(approval_id)

    events = audit.events(ended.name)
    keys = sorted({key for e in events if e["event"] == LOCK_ACQUIRED for key in e["detail"]["keys"]})
    released = locks.release(keys, ended.executionArn) if keys else []

    state = last_state(history)
    if ended.error:
        state = {**state, "error": {"Error": ended.error, "Cause": ended.cause or ""}}
    # The workflow's own chain may have reported it already (under another outcome): one report per rollback.
    first = not any(e["event"] == REPORT_EVENT for e in events)
    facts = keeper.facts(state, events) if first and keeper is not None else ClosingFacts(None, None)
    report = build_report(
        outcome=ended.status,
        execution_arn=ended.executionArn,
        execution_name=ended.name,
        state=state,
        changes=latest_changes(events),
        history=timeline_from_history(history),
        rto_target_seconds=rto_target_seconds,
        now=now,
        error_rate_peak=facts.error_rate_peak,
        logs=facts.logs,
    )
    if first and keeper is not None:
        report = keeper.keep(state, report)
    reported = first and record_report(audit, report, now)
    if reported:
        notify(*notification_text(report))
    return CleanedUp(
        execution_arn=ended.executionArn,
        status=ended.status,
        approval_closed=closed,
        locks_released=released,
        reported=reported,
    )
