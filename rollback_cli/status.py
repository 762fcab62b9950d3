"""``rollback status``: one execution's states so far, or (--follow) as they happen, and how it ended."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.status import Status
from rich.text import Text

from rollback_cli import console
from rollback_cli.aws import Execution, StepFunctions
from rollback_cli.console import DocumentedArgument, PanelOption, RichCommand
from rollback_cli.errors import EXIT_CODES, INTERRUPTED, OK, ROLLBACK_FAILED
from rollback_cli.options import Pipeline, common_options
from rollback_cli.render import execution_json, outcome, plan, plan_lines, print_json, report, utc

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

PRECHECKS_STATE = "Run pre-checks"
PLAN_PATH = "plan"  # the pre-checks' ResultPath: $.plan, a RollbackPlan


@dataclass(frozen=True)
class Snapshot:
    execution: Execution
    states: list[tuple[str, datetime]]  # (state, entered at), in order
    plan: dict[str, Any] | None  # what the pre-checks found would change (a RollbackPlan)

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


def planned(events: Sequence[HistoryEventTypeDef]) -> dict[str, Any] | None:
    """The pre-checks' plan (``$.plan`` when that state exits), or None (not there yet, or not a plan)."""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == PRECHECKS_STATE:
            try:
                output = json.loads(details.get("output") or "{}")
            except ValueError:
                return None
            return plan(output.get(PLAN_PATH)) if isinstance(output, dict) else None
    return None


def snapshots(sfn: StepFunctions, arn: str, poll: float | None) -> Iterator[Snapshot]:
    """The execution now; with ``poll``, again every ``poll`` seconds until it has ended."""
    while True:
        execution = sfn.describe(arn)  # before the history, so an ended execution's history is complete
        events = sfn.history(arn)
        yield Snapshot(execution, entered_states(events), planned(events))
        if poll is None or execution.ended:
            return
        time.sleep(poll)


class Progress:
    """Prints (as text) the header once, each state once as it appears and the plan once known; in a terminal,
    with --follow, a spinner below them says what it is waiting on."""

    def __init__(self, out: Console, *, text: bool, spinner: bool) -> None:
        self.out = out
        self.text = text
        self.spinner: Status | None = Status("", console=out) if spinner and text and out.is_terminal else None
        self.last: Snapshot | None = None
        self.plan_shown = False

    def live(self) -> AbstractContextManager[Any]:
        return self.spinner if self.spinner is not None else nullcontext()

    def show(self, snapshot: Snapshot) -> None:
        if self.text:
            if self.last is None:
                started = utc(snapshot.execution.started_at)
                self.out.print(
                    Text.assemble(
                        (snapshot.execution.name, "bold"), f": {snapshot.execution.status} (started {started} UTC)"
                    ),
                    soft_wrap=True,
                )
            for name, at in snapshot.states[len(self.last.states) if self.last else 0 :]:
                self.out.print(Text.assemble("  ", (utc(at, "%H:%M:%S"), "dim"), f"  {name}"), soft_wrap=True)
            if snapshot.plan and not self.plan_shown:
                for line in plan_lines(snapshot.plan):
                    self.out.print(Text.assemble(("      plan: ", "cyan"), line), soft_wrap=True)
                self.plan_shown = True
            if self.spinner is not None and not snapshot.execution.ended:
                now = snapshot.states[-1][0] if snapshot.states else "starting"
                self.spinner.update(f"{snapshot.execution.status}, in {now}: waiting for the next state")
        self.last = snapshot


def watch(progress: Iterator[Snapshot], shown: Progress) -> Snapshot:
    """Show each snapshot; the last one."""
    with shown.live():
        for snapshot in progress:
            shown.show(snapshot)
    if shown.last is None:
        raise AssertionError("snapshots() yields at least once")
    return shown.last


def run(pipeline: Pipeline, execution: str | None, follow: bool, poll: float) -> int:
    sfn = pipeline.step_functions()
    arn = sfn.execution_arn(execution)
    out = console.stdout()
    shown = Progress(out, text=not pipeline.json, spinner=follow)
    try:
        last = watch(snapshots(sfn, arn, poll if follow else None), shown)
    except KeyboardInterrupt:
        print(f"\nStopped following; the rollback goes on: rollback status {arn} --follow", file=sys.stderr)
        return INTERRUPTED
    if pipeline.json:
        print_json(last.to_json())
    elif not last.execution.ended and last.states:
        out.print(Text(f"{last.execution.status}, now in {last.states[-1][0]}"), soft_wrap=True)
    else:
        style = "green" if last.execution.status == "SUCCEEDED" else "red" if last.execution.ended else ""
        out.print(Text(outcome(last.execution), style=style), soft_wrap=True)
    return ROLLBACK_FAILED if follow and last.execution.status != "SUCCEEDED" else OK


def command() -> click.Command:
    def callback(**params: Any) -> int:
        return run(Pipeline.from_params(params), params["execution"], params["follow"], params["poll"])

    return RichCommand(
        "status",
        callback=callback,
        short_help="a rollback's states so far and how it ended",
        help="Show a rollback's status and the states it entered (UTC); at the end, its report summary or its "
        "error. With --follow, print each state as it is entered until the rollback ends: exit 0 if it succeeded, "
        "1 if not.",
        epilog=EXIT_CODES,
        params=[
            DocumentedArgument(
                ["execution"], required=False, help="execution name or ARN (default: the latest rollback)"
            ),
            PanelOption(["--follow"], is_flag=True, help="poll and print states as they happen until it ends"),
            PanelOption(
                ["--poll"],
                type=click.FloatRange(min=0, min_open=True),
                default=2.0,
                metavar="SECONDS",
                help="seconds between polls (default: 2)",
            ),
            *common_options(),
        ],
    )
