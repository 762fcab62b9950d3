"""Closing out a rollback's record (runbook "Post-Rollback Actions"): what the report adds once the rollback ended,
whatever the outcome: the error rate's peak over the incident (the post-mortem's impact), the incident's logs kept
beside the record, and the incident the alarm opened, closed out with the outcome, RTO, RPO and record.

None of them can fail the record: a metric that cannot be read is an unknown peak, logs that cannot be kept are
reported as not preserved, an incident that cannot be updated says so in the report; each with its reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.adapters.audit import AuditLog
from functions.adapters.incidents import IncidentStore, incident_key
from functions.logic.impact import SeriesReader, error_rate_peak, error_rate_query, incident_window
from functions.logic.preserved_logs import QueryRunner, keep_incident_logs
from functions.models.rollback import (
    HealthVerification,
    IncidentLogs,
    IncidentUpdate,
    MetricPeak,
    MetricQuery,
    PreservedLogs,
    RollbackReport,
    RollbackRequest,
)
from functions.text import bounded
from functions.transient import describe_error, retry_transient


@dataclass(frozen=True)
class ClosingFacts:
    error_rate_peak: MetricPeak | None
    logs: PreservedLogs | None


@dataclass(frozen=True)
class ClosingSources:
    """Where closing out reads and keeps things (adapters in the handlers, fakes in the tests)."""

    metrics: list[MetricQuery]  # the service's verify_metrics
    read_series: SeriesReader
    logs: IncidentLogs | None  # the service's preserve_logs
    run_query: QueryRunner
    store_logs: Callable[[bytes], str] | None  # None: no records bucket
    audit: AuditLog
    lead_seconds: int


def gather_closing_facts(
    request: RollbackRequest,
    verification: HealthVerification | None,
    events: list[dict[str, Any]],
    sources: ClosingSources,
    now: datetime,
) -> ClosingFacts:
    """The error rate's peak from ``lead_seconds`` before the detection to the end of verification (now, if it
    never ended verified), and the logs of the same start to now (``events``: the rollback's audit events)."""
    query = error_rate_query(sources.metrics)
    verified_at = verification.verified_at if verification and verification.verified_at else now
    peak = (
        error_rate_peak(query, sources.read_series, incident_window(request.detected_at, sources.lead_seconds,
                                                                   verified_at))
        if query is not None
        else None
    )  # fmt: skip
    logs = (
        keep_incident_logs(
            sources.logs, incident_window(request.detected_at, sources.lead_seconds, now), audit=sources.audit,
            events=events, run=sources.run_query, store=sources.store_logs, now=now,
            identity={"rollback_id": request.rollback_id, "service": request.service,
                      "environment": request.environment},
        )
        if sources.logs is not None
        else None
    )  # fmt: skip
    return ClosingFacts(error_rate_peak=peak, logs=logs)


def close_incident(
    incidents: IncidentStore,
    request: RollbackRequest,
    report: RollbackReport,
    execution_name: str,
    *,
    sleep: Callable[[float], None],
    keep_until: datetime,
    attempts: int = 3,
) -> IncidentUpdate | None:
    """Writes the report's outcome, RTO, RPO (when known) and record address onto the incident the alarm opened;
    None for a rollback started by hand (no incident: the kept record holds it all). Transient failures are tried
    again; one that persists is reported, not raised (the rollback's outcome stands)."""
    if request.alarm is None:
        return None
    key = incident_key(request.service, request.environment)
    values: dict[str, str | float | None] = {
        "rollback_id": report.rollback_id,
        "rollback_outcome": report.status,
        "rto_seconds": report.rto_seconds,
        "rpo_seconds": report.rpo_seconds,
        "record_url": report.record_url,
    }
    try:
        updated = retry_transient(
            lambda: incidents.record_outcome(key, execution_name=execution_name, values=values, keep_until=keep_until),
            attempts=attempts, first_delay=0.5, sleep=sleep,
        )  # fmt: skip
    except Exception as error:  # reported in the record and the notification: the rollback's outcome stands
        return IncidentUpdate(key=key, updated=False, detail=bounded(f"not updated: {describe_error(error)}", 1000))
    if not updated:
        return IncidentUpdate(
            key=key, updated=False, detail="not updated: the incident no longer names this rollback (it expired or a "
            "later incident replaced it)",
        )  # fmt: skip
    return IncidentUpdate(
        key=key,
        updated=True,
        detail="outcome, RTO, RPO and record written onto the incident, kept as a closed incident",
    )


def incident_text(update: IncidentUpdate) -> str:
    return f"incident {update.key}: {update.detail}"
