"""How executions read in a terminal, and as JSON (``--output json``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from functions.cli.aws import Execution


def utc(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return at.astimezone(UTC).strftime(fmt) if at else "-"


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=_default))


def _default(value: Any) -> str:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [headers, *rows]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def report(execution: Execution) -> dict[str, Any] | None:
    """The parts of the workflow's report (its output) an operator reads first."""
    if not execution.output or "status" not in execution.output:
        return None
    keys = ("status", "rto_seconds", "rto_target_seconds", "rto_met", "changes")
    return {key: execution.output.get(key) for key in keys}


def outcome(execution: Execution) -> str:
    """One line: the report's status, changes and RTO; or the error and its cause; or still running."""
    summary = report(execution)
    if summary is not None:
        changes = ", ".join(f"{c.get('target')} {c.get('from')} -> {c.get('to')}" for c in summary["changes"] or [])
        text = f"{summary['status']}: {changes or 'nothing changed'}"
        if summary["rto_seconds"] is not None:
            text += f"; RTO {summary['rto_seconds']:.0f} s (target {summary['rto_target_seconds']} s)"
        return text
    if execution.ended and execution.status != "SUCCEEDED":
        return f"{execution.status}: {execution.error or 'no error recorded'}" + (
            f": {execution.cause}" if execution.cause else ""
        )
    return execution.status


def execution_json(execution: Execution) -> dict[str, Any]:
    return {
        "name": execution.name,
        "execution_arn": execution.arn,
        "status": execution.status,
        "start_date": execution.started_at,
        "stop_date": execution.stopped_at,
    }
