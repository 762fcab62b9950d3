"""How executions, plans and reports read in a terminal, and as JSON (``--output json``).

Plans and reports are read through the shared models only (:class:`PlannedChange`, :class:`ChangeRecord`):
target, before -> after, status; whatever the rollback type, and never its own ``parameters``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from rich import box
from rich.table import Table
from rich.text import Text

from functions.models.rollback import ChangeRecord, PlannedChange, RollbackPlan
from rollback_cli import console
from rollback_cli.aws import Execution

REPORT_KEYS = (
    "status", "rto_seconds", "rto_target_seconds", "rto_met", "rpo_seconds", "changes", "record_url", "logs",
)  # fmt: skip


def utc(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return at.astimezone(UTC).strftime(fmt) if at else "-"


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_default)


def print_json(value: Any) -> None:
    console.stdout().print(Text(to_json(value)), soft_wrap=True)


def _default(value: Any) -> str:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Columns under a header rule in a terminal; piped, plain columns (two spaces apart, no rule, no trailing
    blanks), one line per row, as ``awk`` wants them."""
    out = console.stdout()
    table = Table(
        box=box.SIMPLE_HEAD if out.is_terminal else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    if out.is_terminal:
        out.print(table)
        return
    with out.capture() as captured:
        out.print(table)
    out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    out.file.flush()


def _change(raw: Any) -> dict[str, Any]:
    """A report's change as a :class:`ChangeRecord` (less the type's ``parameters``); as is if it is none."""
    try:
        return ChangeRecord.model_validate(raw).model_dump(mode="json", exclude={"parameters"})
    except ValidationError:
        return raw if isinstance(raw, dict) else {"target": str(raw)}


def describe_change(change: dict[str, Any]) -> str:
    """``target: before -> after``, and ``(skipped)`` when nothing was changed."""
    text = f"{change.get('target', '?')}: {change.get('before', '?')} -> {change.get('after', '?')}"
    return text + (" (skipped)" if change.get("status") == "skipped" or change.get("skip") else "")


def report(execution: Execution) -> dict[str, Any] | None:
    """The parts of the workflow's report (its output) an operator reads first."""
    if not execution.output or "status" not in execution.output:
        return None
    summary = {key: execution.output.get(key) for key in REPORT_KEYS}
    summary["changes"] = [_change(c) for c in summary["changes"] or []]
    return summary


def plan(state: Any) -> dict[str, Any] | None:
    """A :class:`RollbackPlan` (the pre-checks' result) as JSON, less the type's ``parameters``; None if none."""
    try:
        parsed = RollbackPlan.model_validate(state)
    except ValidationError:
        return None
    return parsed.model_dump(mode="json", exclude={"changes": {"__all__": {"parameters"}}})


def plan_lines(planned: dict[str, Any]) -> list[str]:
    """One line per planned change: ``target: before -> after``."""
    changes = [PlannedChange.model_validate(c) for c in planned["changes"]]
    return [
        f"{c.target}: {c.before} -> {c.after}" + (" (already as wanted: skipped)" if c.skip else "") for c in changes
    ]


def outcome(execution: Execution) -> str:
    """One line: the report's status, changes and RTO; or the error and its cause; or still running."""
    summary = report(execution)
    if summary is not None:
        changes = ", ".join(describe_change(c) for c in summary["changes"])
        text = f"{summary['status']}: {changes or 'nothing changed'}"
        if summary["rto_seconds"] is not None:
            text += f"; RTO {summary['rto_seconds']:.0f} s (target {summary['rto_target_seconds']} s)"
        if summary["rpo_seconds"]:
            text += f"; data lost: {summary['rpo_seconds']:.0f} s of writes"
        if summary["record_url"]:
            text += f"; record: {summary['record_url']}"
        logs = summary["logs"] if isinstance(summary["logs"], dict) else None
        if logs is not None:
            text += f"; logs: {logs['url']}" if logs.get("url") else f"; logs NOT preserved: {logs.get('detail')}"
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
        "rollback_type": execution.rollback_type,
        "status": execution.status,
        "start_date": execution.started_at,
        "stop_date": execution.stopped_at,
    }
