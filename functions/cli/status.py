"""``rollback status``: one execution's states so far, or (--follow) as they happen, and how it ended."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.cli.aws import Execution, StepFunctions
from functions.cli.errors import EXIT_CODES, INTERRUPTED, OK, ROLLBACK_FAILED
from functions.cli.render import execution_json, outcome, print_json, report, utc

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

PRECHECKS_STATE = "Run pre-checks"


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status",
        parents=[common],
        epilog=EXIT_CODES,
        help="a rollback's states so far and how it ended",
        description="Show a rollback's status and the states it entered (UTC); at the end, its report summary "
        "or its error. With --follow, print each state as it is entered until the rollback ends: exit 0 if it "
        "succeeded, 1 if not.",
    )
    status.add_argument("execution", nargs="?", help="execution name or ARN (default: the latest rollback)")
    status.add_argument("--follow", action="store_true", help="poll and print states as they happen until it ends")
    status.add_argument(
        "--poll", type=_positive_seconds, default=2.0, metavar="SECONDS", help="seconds between polls (default: 2)"
    )
    status.set_defaults(handler=run)


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


@dataclass(frozen=True)
class Snapshot:
    execution: Execution
    states: list[tuple[str, datetime]]  # (state, entered at), in order
    plan: str | None  # what the pre-checks found would change

    def to_json(self) -> dict[str, Any]:
        return {
            **execution_json(self.execution),
            "states": [{"name": name, "entered_at": at} for name, at in self.states],
            "error": self.execution.error,
            "cause": self.execution.cause,
            "plan": self.plan,
            "report": report(self.execution),
        }


def entered_states(events: Sequence[HistoryEventTypeDef]) -> list[tuple[str, datetime]]:
    return [
        (event["stateEnteredEventDetails"]["name"], event["timestamp"])
        for event in events
        if event["type"].endswith("StateEntered") and "stateEnteredEventDetails" in event
    ]


def plan(events: Sequence[HistoryEventTypeDef]) -> str | None:
    """The pre-checks' summary of what would change (``$.checks.summary`` when that state exits)."""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == PRECHECKS_STATE:
            try:
                summary = json.loads(details.get("output") or "{}").get("checks", {}).get("summary")
            except (ValueError, AttributeError):
                return None
            return str(summary) if summary else None
    return None


def snapshots(sfn: StepFunctions, arn: str, poll: float | None) -> Iterator[Snapshot]:
    """The execution now; with ``poll``, again every ``poll`` seconds until it has ended."""
    while True:
        execution = sfn.describe(arn)  # before the history, so an ended execution's history is complete
        events = sfn.history(arn)
        yield Snapshot(execution, entered_states(events), plan(events))
        if poll is None or execution.ended:
            return
        time.sleep(poll)


def run(args: argparse.Namespace) -> int:
    sfn = StepFunctions(stack=args.stack, region=args.region, endpoint_url=args.endpoint_url)
    arn = sfn.execution_arn(args.execution)
    try:
        last = _watch(snapshots(sfn, arn, args.poll if args.follow else None), text=args.output != "json")
    except KeyboardInterrupt:
        print(f"\nStopped following; the rollback goes on: rollback status {arn} --follow", file=sys.stderr)
        return INTERRUPTED
    if args.output == "json":
        print_json(last.to_json())
    elif not last.execution.ended and last.states:
        print(f"{last.execution.status}, now in {last.states[-1][0]}")
    else:
        print(outcome(last.execution))
    return ROLLBACK_FAILED if args.follow and last.execution.status != "SUCCEEDED" else OK


def _watch(progress: Iterator[Snapshot], *, text: bool) -> Snapshot:
    """Print (as text) the header once, each state once as it appears and the plan once known; the last one."""
    last: Snapshot | None = None
    plan_shown = False
    for snapshot in progress:
        if text:
            if last is None:
                started = utc(snapshot.execution.started_at)
                print(f"{snapshot.execution.name}: {snapshot.execution.status} (started {started} UTC)", flush=True)
            for name, at in snapshot.states[len(last.states) if last else 0 :]:
                print(f"  {utc(at, '%H:%M:%S')}  {name}", flush=True)
            if snapshot.plan and not plan_shown:
                print("\n".join(f"      plan: {line}" for line in snapshot.plan.splitlines()), flush=True)
                plan_shown = True
        last = snapshot
    if last is None:
        raise AssertionError("snapshots() yields at least once")
    return last
