"""``rollback revert EXECUTION``: undo a rollback once the fix is out, started like any rollback (a new execution of
the same type, approved like the first) whose input puts back what the first one changed, as its report recorded it.

Built for ``feature_flag``: each flag the rollback set goes back to the value it held before (the report's change
records carry it). Other types say how to undo each change in the report's ``revert`` text.
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError
from rich.json import JSON
from rich.padding import Padding
from rich.text import Text

from functions.rollbacks import registry
from rollback_cli import console
from rollback_cli.console import DocumentedArgument, PanelOption, RichCommand
from rollback_cli.errors import EXIT_CODES, OK, UsageError
from rollback_cli.options import Pipeline, common_options
from rollback_cli.render import print_json, to_json
from rollback_cli.start import EXECUTION_NAME, describe_validation_error, requester

REVERTIBLE = {"feature_flag"}


def revert_target(rollback_type: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``target`` that puts back what ``changes`` (the report's change records) changed."""
    if rollback_type not in REVERTIBLE:
        raise UsageError(
            f"rollback revert supports {', '.join(sorted(REVERTIBLE))}; for {rollback_type}, follow each change's "
            "revert in the report"
        )
    flags = [
        {"name": change["parameters"]["flag"], "enabled": change["parameters"]["previous"]}
        for change in changes
        if change.get("kind") == "feature_flag.set" and change.get("status") == "applied"
    ]
    if not flags:
        raise UsageError("nothing to revert: the rollback set no flag (or put them back itself)")
    return {"flags": flags}


def revert_input(
    name: str, original: dict[str, Any], changes: list[dict[str, Any]], *, requested_by: str, reason: str | None = None
) -> dict[str, Any]:
    """The input of the revert of the rollback ``name`` (its ``original`` input and its report's ``changes``)."""
    rollback_type = registry.rollback_type(str(original.get("rollback_type") or "feature_flag"))
    payload: dict[str, Any] = {
        "rollback_type": rollback_type.name,
        "service": original["service"],
        "environment": original["environment"],
        "reason": (reason or f"Revert of rollback {name} (the fix is out); it was: {original['reason']}")[:2000],
        "requested_by": requested_by,
        "scenario": f"Revert of {name}"[:256],
        "severity": original.get("severity", "P1"),
        "target": revert_target(rollback_type.name, changes),
    }
    if original.get("required_roles"):
        payload["required_roles"] = original["required_roles"]
    try:
        validated = rollback_type.input_model.model_validate(payload)
    except ValidationError as error:
        raise UsageError(f"invalid revert input: {describe_validation_error(error, {})}") from None
    return validated.model_dump(mode="json", exclude_unset=True)


def run(params: dict[str, Any]) -> int:
    pipeline = Pipeline.from_params(params)
    sfn = pipeline.step_functions()
    execution = sfn.describe(sfn.execution_arn(params["execution"]))
    if execution.rollback_type is None or execution.input is None:
        raise UsageError(f"{execution.name} is not a rollback of this stack's workflows")
    if execution.status != "SUCCEEDED" or not execution.output:
        raise UsageError(f"{execution.name} is {execution.status}: only a rollback that succeeded is reverted")
    input_ = {"rollback_type": execution.rollback_type, **execution.input}
    payload = revert_input(
        execution.name,
        input_,
        list(execution.output.get("changes", [])),
        requested_by=params["requested_by"] or requester(),
        reason=params["reason"],
    )
    name = params["name"] or f"{execution.name}"[:73] + "-revert"
    if not EXECUTION_NAME.fullmatch(name):
        raise UsageError(f"--name: {name!r} must be 1 to 80 letters, digits, '-' or '_'")
    machine = sfn.state_machine_arn(execution.rollback_type)
    if not params["confirm"]:
        if pipeline.json:
            print_json({"started": False, "state_machine_arn": machine, "name": name, "input": payload})
        else:
            out = console.stdout()
            out.print(Text(f"Would start the revert of {execution.name}", style="bold"), soft_wrap=True)
            out.print(Text(f"  state machine: {machine}\n  name: {name}\n  input:"), soft_wrap=True)
            out.print(Padding(JSON(to_json(payload)), (0, 0, 0, 4), expand=False), soft_wrap=True)
            out.print(Text("Nothing started: add --confirm to start it.", style="yellow"), soft_wrap=True)
        return OK
    arn = sfn.start(machine, name, payload)
    if pipeline.json:
        print_json({"started": True, "state_machine_arn": machine, "name": name, "execution_arn": arn})
    else:
        console.stdout().print(Text(f"Started {arn}\nFollow it: rollback status {name} --follow"), soft_wrap=True)
    return OK


def command() -> click.Command:
    return RichCommand(
        "revert",
        callback=lambda **params: run(params),
        short_help="undo a rollback once the fix is out (feature_flag)",
        help="Start a rollback of the same type that puts back what EXECUTION changed, as its report recorded it "
        "(for feature_flag: each flag it set, back to its previous value). It is approved like any rollback. "
        "Without --confirm it only shows what it would start.",
        epilog=EXIT_CODES,
        params=[
            DocumentedArgument(["execution"], required=True, help="the rollback to revert: execution name or ARN"),
            PanelOption(["--reason"], help="why (default: names the reverted rollback and its reason)"),
            PanelOption(["--requested-by"], metavar="IDENTITY", help="your approver id or email"),
            PanelOption(["--name"], help="execution name (default: <execution>-revert)"),
            PanelOption(["--confirm"], is_flag=True, help="really start it (without: show what would start)"),
            *common_options(),
        ],
    )
