"""``rollback list`` (recent rollbacks) and ``rollback history SERVICE`` (one service's rollbacks and outcomes)."""

from __future__ import annotations

import argparse
from typing import Any

from functions.cli.aws import StepFunctions
from functions.cli.errors import EXIT_CODES, OK
from functions.cli.render import execution_json, outcome, print_json, report, table, utc

STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    listing = commands.add_parser(
        "list",
        parents=[common],
        epilog=EXIT_CODES,
        help="recent rollbacks: name, status, start, stop",
        description="List rollbacks, newest first (times in UTC).",
    )
    listing.add_argument("--status", choices=STATUSES, help="only rollbacks in this status")
    listing.add_argument("--max", type=_positive_int, default=50, metavar="N", help="at most N rollbacks (default: 50)")
    listing.set_defaults(handler=run_list)

    history = commands.add_parser(
        "history",
        parents=[common],
        epilog=EXIT_CODES,
        help="one service's rollbacks, newest first, with their outcome",
        description="The rollbacks whose input names SERVICE, newest first, with how each ended.",
    )
    history.add_argument("service", help="service name as given to start, e.g. skillancer")
    history.add_argument(
        "--max",
        type=_positive_int,
        default=100,
        metavar="N",
        help="look through the N most recent rollbacks of every service (default: 100)",
    )
    history.set_defaults(handler=run_history)


def run_list(args: argparse.Namespace) -> int:
    sfn = StepFunctions(stack=args.stack, region=args.region, endpoint_url=args.endpoint_url)
    executions = sfn.executions(status=args.status, limit=args.max)
    if args.output == "json":
        print_json([execution_json(e) for e in executions])
    elif not executions:
        print("No rollbacks" + (f" with status {args.status}" if args.status else ""))
    else:
        rows = [[e.name, e.status, utc(e.started_at), utc(e.stopped_at)] for e in executions]
        print(table(["NAME", "STATUS", "STARTED (UTC)", "STOPPED (UTC)"], rows))
    return OK


def run_history(args: argparse.Namespace) -> int:
    sfn = StepFunctions(stack=args.stack, region=args.region, endpoint_url=args.endpoint_url)
    found = [sfn.describe(e.arn) for e in sfn.executions(limit=args.max)]
    mine = [e for e in found if (e.input or {}).get("service") == args.service]
    if args.output == "json":
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
        print(f"No rollbacks of {args.service} among the last {len(found)}")
    else:
        rows = [[utc(e.started_at, "%Y-%m-%d %H:%M"), e.name, outcome(e)] for e in mine]
        print(table(["STARTED (UTC)", "NAME", "OUTCOME"], rows))
    return OK
