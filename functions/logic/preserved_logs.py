"""The incident's logs kept with the record (runbook "Post-Rollback Actions": preserve logs for investigation): the
service's Logs Insights query over its log groups for the incident window, its rows saved as JSON beside the
report, bounded in size (rows past the cap are left out, and the file and the report say so).

Once per rollback: the kept logs are remembered in the audit trail, and a report step run again (a retry, or the
failure chain after a failed report) reuses them instead of querying again. A query that fails or does not end in
time leaves the record saying so, with the reason: it never fails the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from functions.adapters.audit import AuditLog
from functions.adapters.logs_insights import MOST_ROWS, QueryFailed, QueryResults
from functions.models.rollback import IncidentLogs, IncidentWindow, PreservedLogs
from functions.text import bounded

PRESERVED_EVENT = "logs preserved"  # the audit event that remembers them
MAX_BYTES = 5 * 1024 * 1024  # the file's cap
MAX_DETAIL = 1000
HEADROOM = 1024  # for the counts and the note added once the rows are chosen

# Runs the query: (log groups, query, start, end) -> its rows, or QueryFailed.
QueryRunner = Callable[[list[str], str, datetime, datetime], QueryResults]


def previously_preserved(events: list[dict[str, Any]]) -> PreservedLogs | None:
    """The logs an earlier run of the report step kept, from the rollback's audit events."""
    for event in events:
        if event["event"] == PRESERVED_EVENT:
            try:
                return PreservedLogs.model_validate(event["detail"])
            except ValidationError:
                return None
    return None


def logs_document(header: dict[str, Any], rows: list[dict[str, str]], max_bytes: int) -> tuple[bytes, int]:
    """The file: ``header``, the counts and as many rows as keep it within ``max_bytes``; and how many it kept."""
    base = len(json.dumps({**header, "results": []}).encode()) + HEADROOM
    used, kept = base, 0
    for row in rows:
        size = len(json.dumps(row).encode()) + 2  # ", " between rows
        if used + size > max_bytes:
            break
        used, kept = used + size, kept + 1
    document: dict[str, Any] = {**header, "rows_returned": len(rows), "rows_kept": kept, "truncated": kept < len(rows)}
    if kept < len(rows):
        document["note"] = f"{len(rows) - kept} of {len(rows)} rows left out to keep this file under {max_bytes} bytes"
    body = json.dumps({**document, "results": rows[:kept]}).encode()
    return body, kept


def preserve_logs(
    config: IncidentLogs,
    window: IncidentWindow,
    *,
    identity: dict[str, str],
    run: QueryRunner,
    store: Callable[[bytes], str] | None,
    max_bytes: int = MAX_BYTES,
) -> PreservedLogs:
    """Runs the query and keeps its rows through ``store`` (which returns their address). ``identity``: the
    rollback's id, service and environment, written at the top of the file."""
    kept = {"log_groups": config.log_groups, "window": window}
    if store is None:
        return PreservedLogs(**kept, detail="not preserved: no records bucket to keep them in")
    try:
        results = run(config.log_groups, config.query, window.start, window.end)
    except QueryFailed as error:
        detail = bounded(f"not preserved: {error}", MAX_DETAIL)
        return PreservedLogs(**kept, query_id=error.query_id, detail=detail)
    header = {
        **identity,
        "log_groups": config.log_groups,
        "query": config.query,
        "query_id": results.query_id,
        "window": window.model_dump(mode="json"),
    }
    body, rows = logs_document(header, results.rows, max_bytes)
    url = store(body)
    notes = [f"{rows} row(s) from {', '.join(config.log_groups)}"]
    if rows < len(results.rows):
        notes.append(f"{len(results.rows) - rows} more left out to keep the file under {max_bytes} bytes")
    if len(results.rows) >= MOST_ROWS:
        notes.append(f"Logs Insights returns at most {MOST_ROWS} rows: a narrower query finds the rest")
    return PreservedLogs(
        **kept, url=url, query_id=results.query_id, rows=rows, truncated=rows < len(results.rows),
        detail=bounded("; ".join(notes), MAX_DETAIL),
    )  # fmt: skip


def keep_incident_logs(
    config: IncidentLogs,
    window: IncidentWindow,
    *,
    audit: AuditLog,
    events: list[dict[str, Any]],
    identity: dict[str, str],
    run: QueryRunner,
    store: Callable[[bytes], str] | None,
    now: datetime,
    max_bytes: int = MAX_BYTES,
) -> PreservedLogs:
    """:func:`preserve_logs` once per rollback: logs kept by an earlier run (``events``: the rollback's audit
    events) are reused; newly kept ones are remembered."""
    earlier = previously_preserved(events)
    if earlier is not None:
        return earlier
    preserved = preserve_logs(config, window, identity=identity, run=run, store=store, max_bytes=max_bytes)
    if preserved.url is not None:
        audit.record_once(identity["rollback_id"], "logs", PRESERVED_EVENT, now, preserved.model_dump(mode="json"))
    return preserved


def logs_text(logs: PreservedLogs | None, service: str) -> str:
    if logs is None:
        return f"none kept (no log groups in preserve_logs for {service})"
    span = f"{logs.window.start:%H:%M:%S}-{logs.window.end:%H:%M:%S} UTC"
    if logs.url is None:
        return f"NOT preserved ({span}): {logs.detail.removeprefix('not preserved: ')}"
    return f"{logs.url} ({logs.detail}; {span})"
