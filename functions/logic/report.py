"""The rollback record: timeline, RTO/RPO against the runbook's targets, approvals, changes, post-mortem draft."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from functions.adapters.audit import AuditLog
from functions.logic.impact import peak_text
from functions.logic.preserved_logs import logs_text
from functions.logic.rto import RPO_TARGET_SECONDS, elapsed_seconds, rto_met
from functions.models.rollback import (
    ApprovalOutcome,
    ChangeRecord,
    FailureInfo,
    HealthVerification,
    MetricPeak,
    PreservedLogs,
    RollbackReport,
    RollbackRequest,
    TimelineEntry,
)

REPORT_EVENT = "rollback report"  # the audit event that holds a rollback's report
Outcome = Literal["SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "PLANNED", "ABORTED"]

MAY_HAVE_CHANGED = ("applied", "unconfirmed")
TIMELINE_EVENT_TYPES = {"TaskStateEntered", "MapStateEntered", "WaitStateEntered", "FailStateEntered"}


def timeline_from_history(events: Iterable[dict[str, Any]]) -> list[TimelineEntry]:
    """Readable steps from a Step Functions execution history: each state's first entry, in order."""
    entries: list[TimelineEntry] = []
    seen: set[str] = set()
    for event in events:
        kind = event["type"]
        if kind == "ExecutionStarted":
            entries.append(TimelineEntry(at=event["timestamp"], event="Rollback workflow started"))
        elif kind in TIMELINE_EVENT_TYPES:
            name = event["stateEnteredEventDetails"]["name"]
            if name not in seen:
                seen.add(name)
                entries.append(TimelineEntry(at=event["timestamp"], event=name))
    return entries


def _model_or_none(model: Any, value: Any) -> Any:
    if value in (None, {}):
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def request_of(state: dict[str, Any]) -> RollbackRequest | None:
    """The validated request in the workflow's state; None when the input was rejected."""
    request: RollbackRequest | None = _model_or_none(RollbackRequest, state.get("request"))
    return request


def verification_of(state: dict[str, Any]) -> HealthVerification | None:
    verification: HealthVerification | None = _model_or_none(HealthVerification, state.get("verification"))
    return verification


def build_report(
    *,
    outcome: Outcome,
    execution_arn: str,
    execution_name: str,
    state: dict[str, Any],
    changes: list[ChangeRecord],
    history: list[TimelineEntry],
    rto_target_seconds: int,
    now: datetime,
    error_rate_peak: MetricPeak | None = None,
    logs: PreservedLogs | None = None,
) -> RollbackReport:
    """``error_rate_peak`` and ``logs``: what closing out found (functions/logic/closing.py), in the report and
    its post-mortem draft."""
    request = request_of(state)
    approval: ApprovalOutcome | None = _model_or_none(ApprovalOutcome, state.get("approval"))
    verification = verification_of(state)
    error: FailureInfo | None = _model_or_none(FailureInfo, state.get("error"))

    timeline = list(history)
    if request is not None and request.detected_at < request.started_at:
        label = f"Issue detected (alarm {request.alarm.name})" if request.alarm else "Issue detected"
        timeline.append(TimelineEntry(at=request.detected_at, event=label))
    for record in approval.approvals if approval else []:
        timeline.append(TimelineEntry(at=record.decided_at, event=f"Approved by {record.name} ({record.role})"))
    restored_at = verification.verified_at if verification and verification.healthy else None
    if restored_at is not None:
        timeline.append(TimelineEntry(at=restored_at, event="Service restored (health verified)"))
    if error is not None:
        timeline.append(TimelineEntry(at=now, event=f"Ended: {error.error}: {error.cause}".strip(": ")))
    timeline.sort(key=lambda entry: entry.at)

    # Never negative: a detection time after the recovery (clock skew) counts as no time at all.
    rto = max(0.0, elapsed_seconds(request.detected_at, restored_at)) if request and restored_at else None
    report = RollbackReport(
        rollback_id=request.rollback_id if request else execution_name,
        rollback_type=request.rollback_type if request else None,
        scenario=request.scenario if request else "unknown (input rejected)",
        severity=request.severity if request else "P1",
        status=outcome,
        execution_arn=execution_arn,
        service=request.service if request else "unknown",
        environment=request.environment if request else "unknown",
        timeline=timeline,
        rto_seconds=rto,
        rto_target_seconds=rto_target_seconds,
        rto_met=rto_met(rto, rto_target_seconds),
        rpo_seconds=achieved_rpo(changes) if request and outcome == "SUCCEEDED" else None,
        approvals=approval.approvals if approval else [],
        changes=changes,
        partial=outcome != "SUCCEEDED" and any(c.status in MAY_HAVE_CHANGED for c in changes),
        announcements=(state.get("announcements") or {}).get("announcements", []),
        post_mortem_markdown="",
        error_rate_peak=error_rate_peak,
        logs=logs,
    )
    return report.model_copy(update={"post_mortem_markdown": post_mortem(report, request, error, state)})


def achieved_rpo(changes: list[ChangeRecord]) -> float:
    """The data a successful rollback lost: the largest loss its applied changes measured (none: nothing lost)."""
    return max((c.data_loss_seconds or 0.0 for c in changes if c.status == "applied"), default=0.0)


def data_affected(report: RollbackReport) -> str:
    lost = [c for c in report.changes if c.data_loss_seconds]
    if not lost:
        return "No (the rollback replaced no data)"
    return "Yes: " + "; ".join(f"{c.target} lost {c.data_loss_seconds:.0f} s of writes" for c in lost)


def rpo_text(report: RollbackReport) -> str:
    if report.rpo_seconds is None:
        return "n/a"
    verdict = "met" if report.rpo_seconds <= RPO_TARGET_SECONDS else "MISSED"
    return f"{report.rpo_seconds:.0f} s (target {RPO_TARGET_SECONDS} s, {verdict})"


def describe_change(change: ChangeRecord) -> str:
    if change.status == "skipped":
        return f"{change.target}: already at {change.after} (nothing changed)"
    if change.status == "failed":
        return f"{change.target}: {change.before} -> {change.after} FAILED: {change.detail}"
    if change.status == "unconfirmed":
        return f"{change.target}: {change.before} -> {change.after} UNCONFIRMED (no answer; check it by hand)"
    return f"{change.target}: {change.before} -> {change.after}"


def partial_summary(report: RollbackReport) -> str:
    """For a rollback that did not succeed yet moved something: what moved, and what did not."""
    moved = [c.target for c in report.changes if c.status in MAY_HAVE_CHANGED]
    stayed = [c.target for c in report.changes if c.status not in MAY_HAVE_CHANGED]
    return "PARTIAL rollback: changed " + ", ".join(moved) + (f"; not changed: {', '.join(stayed)}" if stayed else "")


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def post_mortem(
    report: RollbackReport, request: RollbackRequest | None, error: FailureInfo | None, state: dict[str, Any]
) -> str:
    """A draft in the runbook's post-mortem template, filled with what the pipeline knows."""
    start = report.timeline[0].at if report.timeline else None
    end = report.timeline[-1].at if report.timeline else None
    rto = f"{report.rto_seconds:.0f} s (target {report.rto_target_seconds} s)" if report.rto_seconds else "not reached"
    summary = (
        f"{report.scenario} on {report.service} ({report.environment}). "
        + (f"Reason given: {request.reason}. " if request else "")
        + f"Rollback {report.status.lower().replace('_', ' ')}"
        + (f" with {error.error}: {error.cause}" if error else "")
        + f". Recovery time: {rto}."
        + (f" {partial_summary(report)}." if report.partial else "")
    )
    rows = "\n".join(f"| {_clock(e.at)} | {e.event} |" for e in report.timeline)
    changes = "\n".join(f"- {describe_change(c)}" for c in report.changes) or "- none"
    approvals = "\n".join(f"- {a.name} ({a.role}) at {_clock(a.decided_at)}" for a in report.approvals) or "- none"
    plan = (state.get("plan") or {}).get("summary", "")
    return f"""# Incident Post-Mortem: {report.scenario} ({report.service}, {report.environment})

**Date:** {start.date().isoformat() if start else "unknown"}
**Duration:** {_clock(start) if start else "?"} - {_clock(end) if end else "?"} (UTC)
**Severity:** {report.severity}
**Author:** [Name]

## Summary

{summary}

## Timeline

| Time (UTC) | Event |
| ---------- | ----- |
{rows}

## Changes made by the rollback

{changes}

{("Plan shown to approvers:" + chr(10) + chr(10) + "```" + chr(10) + plan + chr(10) + "```") if plan else ""}

## Approvals

{approvals}

## Evidence preserved

- Logs of the incident window: {logs_text(report.logs, report.service)}

## Root Cause

[Detailed technical explanation]

## Impact

- Users affected: X
- Revenue impact: $X
- Error rate peak: {peak_text(report.error_rate_peak, report.service)}
- Data affected: {data_affected(report)}
- RPO achieved: {rpo_text(report)}

## What Went Well

-

## What Went Wrong

-

## Action Items

| Action | Owner | Due Date |
| ------ | ----- | -------- |
|        |       |          |

## Lessons Learned

-
"""


def record_report(audit: AuditLog, report: RollbackReport, now: datetime) -> bool:
    """One report per outcome: True for the call that recorded it (and so announces it); a step run again, or a
    clean-up after the workflow's own report, records nothing."""
    body = report.model_dump(mode="json")
    return audit.record_once(report.rollback_id, f"report#{report.status}", REPORT_EVENT, now, body)


def notification_text(report: RollbackReport) -> tuple[str, str]:
    status = f"{report.status} (PARTIAL)" if report.partial else report.status
    subject = f"[{report.severity}] Rollback {status}: {report.service} ({report.environment})"
    lines = [subject, "", f"Scenario: {report.scenario}", f"Execution: {report.execution_arn}"]
    if report.record_url:
        lines.append(f"Record (report, post-mortem draft, timeline): {report.record_url}")
    if report.logs is not None:
        lines.append(f"Logs of the incident: {logs_text(report.logs, report.service)}")
    if report.error_rate_peak is not None:
        lines.append(f"Error rate peak: {report.error_rate_peak.detail}")
    if report.incident is not None:
        lines.append(f"Incident {report.incident.key}: {report.incident.detail}")
    if report.rto_seconds is not None:
        lines.append(f"RTO: {report.rto_seconds:.0f} s (target {report.rto_target_seconds} s)")
    if report.partial:
        lines.append(partial_summary(report))
    lines += [f"- {describe_change(c)}" for c in report.changes]
    lines += ["", "Timeline:"] + [f"  {_clock(e.at)}  {e.event}" for e in report.timeline]
    return subject, "\n".join(lines)
