"""``rollback start TYPE``: build the workflow input, validate it here, show it, and start it only with --confirm.

One subcommand per registered rollback type (:data:`functions.rollbacks.registry.ROLLBACK_TYPES`): the shared
envelope's options, plus options generated from the type's ``target`` model. The input is validated with the
type's own ``input_model`` before AWS is asked anything, and started on ``<stack>-<state machine suffix>``.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import click
from pydantic import ValidationError
from rich.json import JSON
from rich.padding import Padding
from rich.text import Text

from functions.models.rollback import Severity
from functions.rollbacks import registry
from functions.rollbacks.contract import RollbackType
from rollback_cli import console
from rollback_cli.console import PanelOption, RichCommand, RichGroup, missing_options
from rollback_cli.errors import EXIT_CODES, OK, UsageError
from rollback_cli.options import Pipeline, TargetOption, common_options, target_options, target_values
from rollback_cli.render import print_json, to_json

REQUESTER_VARIABLE = "ROLLBACK_REQUESTED_BY"
# Step Functions allows more, but these are the characters its CloudWatch logging keeps intact.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
ROLLBACK = "The rollback"
STARTING = "Starting it"
# The envelope's fields that have an option, and that option (for naming the option of a refused field).
ENVELOPE_FLAGS = {
    "service": "--service",
    "environment": "--environment",
    "reason": "--reason",
    "requested_by": "--requested-by",
    "severity": "--severity",
    "scenario": "--scenario",
    "required_roles": "--role",
    "dry_run": "--dry-run",
}


def envelope_options() -> list[click.Option]:
    """What every rollback type's input shares, and how to start it."""
    return [
        PanelOption(["--service"], panel=ROLLBACK, needed=True, help="service being rolled back, e.g. skillancer"),
        PanelOption(["--environment"], panel=ROLLBACK, needed=True, help="environment, e.g. production"),
        PanelOption(["--reason"], panel=ROLLBACK, needed=True, help="why: shown to the approvers and in the report"),
        PanelOption(
            ["--requested-by"],
            metavar="IDENTITY",
            panel=ROLLBACK,
            help="who asks, as in the approvers directory (id or email), who then cannot approve it "
            f"(default: ${REQUESTER_VARIABLE}, else $USER@hostname)",
        ),
        PanelOption(
            ["--severity"],
            type=click.Choice(get_args(Severity)),
            default="P1",
            panel=ROLLBACK,
            help="severity (default: P1)",
        ),
        PanelOption(["--scenario"], panel=ROLLBACK, help="decision-matrix scenario (default: Manual rollback)"),
        PanelOption(
            ["--role"],
            multiple=True,
            metavar="ROLE",
            panel=ROLLBACK,
            help="role that must approve, each by a different person; repeat (default: on-call and lead)",
        ),
        PanelOption(
            ["--dry-run"],
            is_flag=True,
            panel=STARTING,
            help="have the workflow run every check and report the plan, changing nothing",
        ),
        PanelOption(
            ["--name"], panel=STARTING, help="execution name (default: <service>-<environment>-<UTC timestamp>)"
        ),
        PanelOption(
            ["--confirm"], is_flag=True, panel=STARTING, help="really start it (without: show what would start)"
        ),
    ]


def requester() -> str:
    configured = os.environ.get(REQUESTER_VARIABLE, "").strip()
    if configured:
        return configured
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def default_name(service: str, environment: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{service}-{environment}"[: 80 - len(stamp) - 1] + f"-{stamp}"


def describe_validation_error(error: ValidationError, flags: Mapping[tuple[str, ...], str]) -> str:
    """Each problem as ``field (--option): message``, the field as a path into the input."""
    problems = []
    for detail in error.errors(include_url=False):
        location = tuple(str(part) for part in detail["loc"])
        flag = flags.get(location[:2]) or flags.get(location[:1])
        field = ".".join(location) or "input"
        problems.append(f"{field}{f' ({flag})' if flag else ''}: {detail['msg']}")
    return "; ".join(problems)


def rollback_input(
    rollback_type: RollbackType, targets: list[TargetOption], params: Mapping[str, Any]
) -> dict[str, Any]:
    """The workflow input, validated with the type's own model (a bad field: UsageError naming it)."""
    payload: dict[str, Any] = {
        "rollback_type": rollback_type.name,
        "service": params["service"],
        "environment": params["environment"],
        "reason": params["reason"],
        "requested_by": params["requested_by"] or requester(),
        "severity": params["severity"],
        "dry_run": params["dry_run"],
        "target": target_values(targets, params),
    }
    optional = {"scenario": params["scenario"], "required_roles": list(params["role"]) or None}
    payload |= {key: value for key, value in optional.items() if value is not None}
    flags: dict[tuple[str, ...], str] = {(field,): flag for field, flag in ENVELOPE_FLAGS.items()} | {
        ("target", option.field): option.flag for option in targets
    }
    try:
        validated = rollback_type.input_model.model_validate(payload)
    except ValidationError as error:
        raise UsageError(f"invalid rollback input: {describe_validation_error(error, flags)}") from None
    return validated.model_dump(mode="json", exclude_unset=True)


def _say(text: str, style: str | None = None) -> None:
    console.stdout().print(Text(text, style=style or ""), soft_wrap=True)


def start(rollback_type: RollbackType, targets: list[TargetOption], params: Mapping[str, Any]) -> int:
    payload = rollback_input(rollback_type, targets, params)
    name = params["name"] or default_name(params["service"], params["environment"], datetime.now(UTC))
    if not EXECUTION_NAME.fullmatch(name):
        raise UsageError(f"--name: {name!r} must be 1 to 80 letters, digits, '-' or '_'")
    if not params["requested_by"] and not os.environ.get(REQUESTER_VARIABLE, "").strip():
        console.stderr().print(
            Text(
                f"note: requested_by is {payload['requested_by']}; the workflow keeps a requester from approving "
                f"only when this is their approver id or email: pass --requested-by or set {REQUESTER_VARIABLE}"
            ),
            soft_wrap=True,
        )
    pipeline = Pipeline.from_params(params)
    sfn = pipeline.step_functions()
    machine = sfn.state_machine_arn(rollback_type.name)
    if not params["confirm"]:
        if pipeline.json:
            print_json({"started": False, "state_machine_arn": machine, "name": name, "input": payload})
        else:
            kind = "dry run (plan only)" if params["dry_run"] else "rollback"
            _say(f"Would start a {rollback_type.name} {kind}", "bold")
            _say(f"  state machine: {machine}\n  name: {name}\n  input:")
            console.stdout().print(Padding(JSON(to_json(payload)), (0, 0, 0, 4), expand=False), soft_wrap=True)
            _say("Nothing started: add --confirm to start it.", "yellow")
        return OK
    arn = sfn.start(machine, name, payload)
    if pipeline.json:
        print_json({"started": True, "state_machine_arn": machine, "name": name, "execution_arn": arn})
    else:
        _say(f"Started {arn}")
        _say(f"Follow it: rollback status {name} --follow")
    return OK


class TypeCommand(RichCommand):
    """``rollback start <type>``: the type's target options, the envelope's options, the common ones."""

    def __init__(self, rollback_type: RollbackType) -> None:
        envelope = envelope_options()
        common = common_options()
        taken = {flag for option in [*envelope, *common] for flag in option.opts + option.secondary_opts}
        self.rollback_type = rollback_type
        self.targets = target_options(rollback_type.target_model, panel=rollback_type.title, taken=taken)
        suffix = rollback_type.state_machine_suffix
        super().__init__(
            rollback_type.name,
            params=[*(option.option for option in self.targets), *envelope, *common],
            callback=self._run,
            short_help=rollback_type.title,
            help=f"Start a {rollback_type.title}.\n\n"
            f"Build the workflow input, validate it, and show what would be started (the state machine "
            f"<stack>-{suffix}, the execution name, the input); --confirm starts it and prints the execution ARN. "
            "--dry-run asks the workflow for the plan only (checks, no change, no approval); it too needs --confirm "
            "to start.",
            epilog=EXIT_CODES,
        )

    def _run(self, **params: Any) -> int:
        missing = missing_options(click.get_current_context())
        if missing:
            raise click.UsageError(f"missing option{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        return start(self.rollback_type, self.targets, params)


class RollbackTypes(RichGroup):
    """``start``'s subcommands: the registered rollback types."""

    commands_title = "Rollback types"

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            try:
                registry.rollback_type(name)
            except LookupError as error:
                raise click.UsageError(str(error), ctx=ctx) from None
        return super().resolve_command(ctx, args)


def start_group() -> click.Group:
    group = RollbackTypes(
        "start",
        short_help="start a rollback (only shows what it would start unless --confirm)",
        help="Start a rollback of one of the registered types. Without --confirm it only shows what it would "
        "start. `rollback start TYPE --help` lists the options of that type.",
        subcommand_metavar="TYPE [OPTIONS]",
        epilog=EXIT_CODES,
    )
    for rollback_type in registry.ROLLBACK_TYPES.values():
        group.add_command(TypeCommand(rollback_type))
    return group
