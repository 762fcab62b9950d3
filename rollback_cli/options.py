"""Options every subcommand takes (where the pipeline runs, how to print), and the options a rollback type's
``target`` model generates for ``rollback start <type>``."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from functions.rollbacks.registry import ROLLBACK_TYPES
from rollback_cli.aws import StepFunctions
from rollback_cli.console import PanelOption

WHERE = "Where the pipeline runs"
OUTPUT = "Output"
DEFAULT_STACK = "RollbackPipeline"


@dataclass(frozen=True)
class Pipeline:
    """Where the pipeline runs and how to answer: the common options of every subcommand."""

    stack: str
    region: str | None
    endpoint_url: str | None
    output: Literal["text", "json"]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Pipeline:
        return cls(params["stack"], params["region"], params["endpoint_url"], params["output"])

    @property
    def json(self) -> bool:
        return self.output == "json"

    def step_functions(self) -> StepFunctions:
        suffixes = {name: kind.state_machine_suffix for name, kind in ROLLBACK_TYPES.items()}
        return StepFunctions(stack=self.stack, region=self.region, endpoint_url=self.endpoint_url, suffixes=suffixes)


def common_options() -> list[click.Option]:
    """Fresh options for one subcommand: where the pipeline runs, and how to print."""
    return [
        PanelOption(
            ["--endpoint-url"],
            metavar="URL",
            panel=WHERE,
            help="Step Functions endpoint, e.g. the local emulators' URL",
        ),
        PanelOption(["--region"], panel=WHERE, help="AWS region (default: from the AWS profile or environment)"),
        PanelOption(
            ["--stack"],
            default=DEFAULT_STACK,
            panel=WHERE,
            help=f"stack whose workflows to use (default: {DEFAULT_STACK})",
        ),
        PanelOption(
            ["--output"],
            type=click.Choice(["text", "json"]),
            default="text",
            panel=OUTPUT,
            help="text for people, json for scripts (default: text)",
        ),
    ]


# --- a rollback type's target model as options -------------------------------------------------------------


@dataclass(frozen=True)
class TargetOption:
    """One field of a type's ``target`` model as a command-line option."""

    field: str
    flag: str  # the field's cli_option, else --<field-name-with-dashes>
    param: str  # its name among the command's parameters (prefixed: no clash with the envelope's)
    option: PanelOption


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(the type, is it a list)`` of a field's annotation, without ``Annotated`` and ``| None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            kept = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(kept) != 1:
                return str, False  # a union of several types: given as text, parsed by the model
            annotation = kept[0]
        elif origin in (list, tuple, set, frozenset):
            inner, _ = _unwrap((get_args(annotation) or (str,))[0])
            return inner, True
        else:
            return annotation, False


def _param_type(annotation: Any) -> click.ParamType:
    if get_origin(annotation) is Literal:
        return click.Choice([str(value) for value in get_args(annotation)])
    if annotation is int:
        return click.INT
    if annotation is float:
        return click.FLOAT
    return click.STRING  # str, and anything else the model parses from text in its lax mode


def set_by_hand(field: FieldInfo) -> bool:
    """False for a target field other commands fill (``cli_option: False``: ``restore``, which ``rollback revert``
    builds from a report)."""
    return not (isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("cli_option") is False)


def option_flag(name: str, field: FieldInfo) -> str:
    """``json_schema_extra["cli_option"]``, else ``--<field-name-with-dashes>``."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    flag = extra.get("cli_option") or f"--{name.replace('_', '-')}"
    if not isinstance(flag, str) or not flag.startswith("--"):
        raise ValueError(f"{name}: cli_option must be an option name such as --{name.replace('_', '-')}")
    return flag


def target_options(model: type[BaseModel], *, panel: str, taken: set[str]) -> list[TargetOption]:
    """An option per field of ``model`` (but those marked ``cli_option: False``): a list field repeats, int and
    float fields parse as such, a Literal is a choice, a bool a flag; help from the field's description. ``taken``:
    option names already in use."""
    generated = []
    for name, field in model.model_fields.items():
        if not set_by_hand(field):
            continue
        flag = option_flag(name, field)
        if flag in taken:
            raise ValueError(f"{model.__name__}.{name}: option {flag} is already an option of the command")
        taken.add(flag)
        annotation, repeated = _unwrap(field.annotation)
        required = field.is_required()
        help_text = (field.description or name.replace("_", " ")).rstrip(".") + (
            "; repeat for several" if repeated else ""
        )
        param = f"target__{name}"
        if annotation is bool and not repeated:
            negative = f"--no-{flag.removeprefix('--')}"
            if negative in taken:
                raise ValueError(f"{model.__name__}.{name}: option {negative} is already an option of the command")
            taken.add(negative)
            option = PanelOption(
                [f"{flag}/{negative}", param], default=None, panel=panel, needed=required, help=help_text
            )
        else:
            option = PanelOption(
                [flag, param],
                type=_param_type(annotation),
                multiple=repeated,
                metavar=flag.removeprefix("--").replace("-", "_").upper(),
                panel=panel,
                needed=required,
                help=help_text,
            )
        generated.append(TargetOption(name, flag, param, option))
    return generated


def target_values(options: list[TargetOption], params: Mapping[str, Any]) -> dict[str, Any]:
    """The given target options as the ``target`` object (options not given are left to the model's defaults)."""
    values: dict[str, Any] = {}
    for option in options:
        value = params.get(option.param)
        if value is None or value == ():
            continue
        values[option.field] = list(value) if isinstance(value, tuple) else value
    return values
