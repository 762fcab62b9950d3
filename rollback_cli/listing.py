"""``rollback list`` (recent rollbacks) and ``rollback history SERVICE`` (one service's rollbacks and outcomes)."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from rollback_cli import console
from rollback_cli.console import DocumentedArgument, PanelOption, RichCommand
from rollback_cli.errors import EXIT_CODES, OK
from rollback_cli.options import Pipeline, common_options
from rollback_cli.render import execution_json, outcome, print_json, print_table, report, utc

STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]


def run_list(pipeline: Pipeline, status: Any, limit: int) -> int:
    executions = pipeline.step_functions().executions(status=status, limit=limit)
    if pipeline.json:
        print_json([execution_json(e) for e in executions])
    elif not executions:
        console.stdout().print(Text("No rollbacks" + (f" with status {status}" if status else "")))
    else:
        rows = [[e.name, e.status, utc(e.started_at), utc(e.stopped_at), e.rollback_type or "-"] for e in executions]
        print_table(["NAME", "STATUS", "STARTED (UTC)", "STOPPED (UTC)", "TYPE"], rows)
    return OK


def run_history(pipeline: Pipeline, service: str, limit: int) -> int:
    sfn = pipeline.step_functions()
    found = [sfn.describe(e.arn) for e in sfn.executions(limit=limit)]
    mine = [e for e in found if (e.input or {}).get("service") == service]
    if pipeline.json:
        print_json(
            [
                {
                    **execution_json(e),
                    "input": e.input,
                    "error": e.error,
                    "cause": e.cause,
                    "report": report(e),
                    "outcome": outcome(e),
                }
                for e in mine
            ]
        )
    elif not mine:
        console.stdout().print(Text(f"No rollbacks of {service} among the last {len(found)}"))
    else:
        rows = [[utc(e.started_at, "%Y-%m-%d %H:%M"), e.name, outcome(e)] for e in mine]
        print_table(["STARTED (UTC)", "NAME", "OUTCOME"], rows)
    return OK


def list_command() -> click.Command:
    def callback(**params: Any) -> int:
        return run_list(Pipeline.from_params(params), params["status"], params["max"])

    return RichCommand(
        "list",
        callback=callback,
        short_help="recent rollbacks: name, status, start, stop",
        help="List rollbacks of every rollback type, newest first (times in UTC).",
        epilog=EXIT_CODES,
        params=[
            PanelOption(["--status"], type=click.Choice(STATUSES), help="only rollbacks in this status"),
            PanelOption(
                ["--max"],
                type=click.IntRange(min=1),
                default=50,
                metavar="N",
                help="at most N rollbacks (default: 50)",
            ),
            *common_options(),
        ],
    )


def history_command() -> click.Command:
    def callback(**params: Any) -> int:
        return run_history(Pipeline.from_params(params), params["service"], params["max"])

    return RichCommand(
        "history",
        callback=callback,
        short_help="one service's rollbacks, newest first, with their outcome",
        help="The rollbacks whose input names SERVICE, newest first, with how each ended.",
        epilog=EXIT_CODES,
        params=[
            DocumentedArgument(["service"], help="service name as given to start, e.g. skillancer"),
            PanelOption(
                ["--max"],
                type=click.IntRange(min=1),
                default=100,
                metavar="N",
                help="look through the N most recent rollbacks of every service (default: 100)",
            ),
            *common_options(),
        ],
    )
