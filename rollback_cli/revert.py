"""``rollback revert EXECUTION``: undo a rollback once the fix is out, started like any rollback (a new execution of
the same type, approved like the first) whose input puts back what the first one changed, as its report recorded it.

Each type says how in its slice (``RollbackType.revert``): ``feature_flag`` sets each flag back to the value it held
before; ``edge`` UPSERTs the record set it replaced and puts back the distribution config it stored; ``infrastructure``
plans and applies Terraform with the values in use before (no previous values file) and rolls the ECS service
forward to the task definition it ran. The report's change records carry what each needs. A type without a revert
says how to undo each change in the report's ``revert`` text.
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError
from rich.json import JSON
from rich.padding import Padding
from rich.text import Text

from functions.models.rollback import ChangeRecord
from functions.rollbacks import registry
from functions.rollbacks.contract import NothingToRevert, RollbackType
from rollback_cli import console
from rollback_cli.console import DocumentedArgument, PanelOption, RichCommand
from rollback_cli.errors import EXIT_CODES, OK, UsageError
from rollback_cli.options import Pipeline, common_options
from rollback_cli.render import print_json, to_json
from rollback_cli.start import EXECUTION_NAME, describe_validation_error, requester


def revertible() -> list[str]:
    return sorted(name for name, rollback_type in registry.ROLLBACK_TYPES.items() if rollback_type.revert)


def revert_target(rollback_type: RollbackType, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``target`` that puts back what ``changes`` (the report's change records) changed."""
    if rollback_type.revert is None:
        raise UsageError(
            f"rollback revert supports {', '.join(revertible())}; for {rollback_type.name}, follow each change's "
            "revert in the report"
        )
    try:
        records = [ChangeRecord.model_validate(change) for change in changes]
    except ValidationError as error:
        raise UsageError(f"the rollback's report does not read as change records: {error}") from None
    try:
        return rollback_type.revert(records)
    except NothingToRevert as nothing:
        raise UsageError(f"nothing to revert: {nothing}") from None


def revert_input(
    type_name: str,
    name: str,
    original: dict[str, Any],
    changes: list[dict[str, Any]],
    *,
    requested_by: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The input of the revert of the ``type_name`` rollback ``name`` (its ``original`` input and its report's
    ``changes``)."""
    rollback_type = registry.rollback_type(type_name)
    payload: dict[str, Any] = {
        "rollback_type": rollback_type.name,
        "service": original["service"],
        "environment": original["environment"],
        "reason": (reason or f"Revert of rollback {name} (the fix is out); it was: {original['reason']}")[:2000],
        "requested_by": requested_by,
        "scenario": f"Revert of {name}"[:256],
        "severity": original.get("severity", "P1"),
        "target": revert_target(rollback_type, changes),
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
    payload = revert_input(
        execution.rollback_type,
        execution.name,
        execution.input,
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
        short_help="undo a rollback once the fix is out (" + ", ".join(revertible()) + ")",
        help="Start a rollback of the same type that puts back what EXECUTION changed, as its report recorded it "
        "(flags back to their previous values, the record set and distribution config it replaced, the Terraform "
        "values and task definition in use before). It is approved like any rollback. "
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
