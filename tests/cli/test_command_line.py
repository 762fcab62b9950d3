"""The `rollback` command without a pipeline: help, options generated from the registry, usage errors, AWS
unreachable, what it imports, the installed script."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import click
import pytest
from pydantic import BaseModel, Field

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.registry import ROLLBACK_TYPES
from rollback_cli.aws import Execution
from rollback_cli.errors import UsageError
from rollback_cli.main import main
from rollback_cli.options import option_flag, set_by_hand
from rollback_cli.render import outcome
from rollback_cli.start import TypeCommand, default_name, rollback_input
from rollback_cli.status import planned
from tests.cli.runner import ROOT, cli_env, rollback

COMMON = ["--endpoint-url", "--region", "--stack", "--output"]
ENVELOPE = ["--service", "--environment", "--reason", "--requested-by", "--severity", "--scenario", "--role"]
STARTING = ["--dry-run", "--confirm", "--name"]
VALID = ["--service", "skillancer", "--environment", "production", "--reason", "broken"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command in this process (fast): its exit code, stdout and stderr."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ([], ["start", "status", "list", "history", "exit codes"]),
        (["start"], ["Rollback types", *ROLLBACK_TYPES, *(t.title for t in ROLLBACK_TYPES.values())]),
        (["start", "kubernetes_app"], ["--namespace", "--deployment", "--revision", "--version", *ENVELOPE, *STARTING]),
        (["status"], ["EXECUTION", "--follow", "--poll"]),
        (["list"], ["--status", "RUNNING", "--max"]),
        (["history"], ["SERVICE", "--max"]),
    ],
)
def test_help_of_every_command_lists_its_options(
    capsys: pytest.CaptureFixture[str], command: list[str], mentions: list[str]
) -> None:
    # When asked for help
    code, out, _ = run(capsys, *command, "--help")
    # Then it exits 0 and names every option, and (for the commands that call AWS) where to run it
    assert code == 0
    flowing = " ".join(out.replace("│", " ").split())  # help panels wrap long titles
    for option in mentions:
        assert option in flowing
    if command and command != ["start"]:
        for option in COMMON:
            assert option in out
    assert "exit codes: 0 ok" in out


@pytest.mark.parametrize("name", sorted(ROLLBACK_TYPES))
def test_each_registered_type_gets_an_option_per_target_field(capsys: pytest.CaptureFixture[str], name: str) -> None:
    # Given a registered rollback type
    model = ROLLBACK_TYPES[name].target_model
    # When its start command's help is shown
    code, out, _ = run(capsys, "start", name, "--help")
    # Then every field of its target model set by hand is an option, with its description (first words) as help
    assert code == 0
    assert f"<stack>-{ROLLBACK_TYPES[name].state_machine_suffix}" in " ".join(out.split())
    for field_name, field in model.model_fields.items():
        if not set_by_hand(field):  # filled by rollback revert from a report
            assert f"--{field_name.replace('_', '-')}" not in out
            continue
        assert option_flag(field_name, field) in out
        assert " ".join((field.description or field_name).split()[:3]) in " ".join(out.split())


class GadgetTarget(BaseModel):
    """A rollback type that is not Kubernetes: what the CLI generates comes from this model alone."""

    gadgets: list[str] = Field(
        min_length=1, description="Gadgets to turn back.", json_schema_extra={"cli_option": "--gadget"}
    )
    build_number: int | None = Field(default=None, ge=1, description="Build to go back to.")
    channel: Literal["stable", "beta"] = Field(default="stable", description="Release channel.")
    label: str | None = Field(default=None, description="A label.")


GADGET = RollbackType(
    name="gadget_app",
    title="Gadget rollback",
    target_model=GadgetTarget,
    functions=(SliceFunction("Plan", "x.y", "z"),),
)


def test_a_types_options_are_generated_from_its_target_model() -> None:
    # Given a type the CLI has never heard of
    command = TypeCommand(GADGET)
    options = {opt.opts[0]: opt for opt in command.params if isinstance(opt, click.Option)}
    # Then its fields are options: cli_option or --dashed-name, a list repeats, an int parses, a Literal is a choice
    assert {"--gadget", "--build-number", "--channel", "--label"} <= set(options)
    assert options["--gadget"].multiple and options["--gadget"].type == click.STRING
    assert options["--build-number"].type == click.INT and not options["--build-number"].multiple
    channel = options["--channel"].type
    assert isinstance(channel, click.Choice) and list(channel.choices) == ["stable", "beta"]
    assert (options["--gadget"].help or "").startswith("Gadgets to turn back")
    # When a command line is parsed into the workflow input
    args = [*VALID, "--gadget", "a", "--gadget", "b", "--build-number", "7", "--requested-by", "me"]
    with command.make_context("gadget_app", args) as ctx:
        payload = rollback_input(GADGET, command.targets, ctx.params)
    # Then the options given (only) are the target, typed, beside the shared envelope and the type's name
    assert payload["target"] == {"gadgets": ["a", "b"], "build_number": 7}
    assert (payload["rollback_type"], payload["service"], payload["requested_by"]) == ("gadget_app", "skillancer", "me")
    # And a bad value is refused by the type's model, naming the field and its option
    refused = r"target\.build_number \(--build-number\): Input should be greater"
    with (
        command.make_context("gadget_app", [*VALID, "--gadget", "a", "--build-number", "0"]) as ctx,
        pytest.raises(UsageError, match=refused),
    ):
        rollback_input(GADGET, command.targets, ctx.params)
    # And a value of the wrong type is a usage error before that
    with pytest.raises(click.BadParameter):
        command.make_context("gadget_app", [*VALID, "--build-number", "seven"])


def test_a_target_field_whose_option_clashes_with_the_commands_own_is_refused() -> None:
    # Given a type whose target has a field that would be --name (already: the execution name)
    class Clashing(BaseModel):
        name: str = Field(description="Clashes with --name.")

    clashing = RollbackType(name="clash", title="Clash", target_model=Clashing, functions=GADGET.functions)
    # When its command is built, Then it is refused, naming the option
    with pytest.raises(ValueError, match="option --name is already an option"):
        TypeCommand(clashing)


def test_missing_required_options_are_named_together(capsys: pytest.CaptureFixture[str]) -> None:
    # When start is given only the service
    code, _, err = run(capsys, "start", "kubernetes_app", "--service", "skillancer")
    # Then it exits 2 naming every missing option at once: the envelope's and the type's
    assert code == 2
    assert "missing options: --deployment, --environment, --reason" in err


def test_an_unknown_type_is_a_usage_error_naming_the_registered_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "start", "database_app", *VALID)
    assert code == 2
    assert "unknown rollback type 'database_app'; registered: " + ", ".join(sorted(ROLLBACK_TYPES)) in err


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--revision", "0"], "target.to_revision (--revision): Input should be greater than or equal to 1"),
        (["--version", ""], "target.to_version (--version): String should have at least 1 character"),
        (["--namespace", "Prod"], "target.namespace (--namespace): String should match pattern"),
        (["--revision", "2", "--version", "v1"], "target: Value error, to_revision and to_version are mutually"),
        (["--deployment", "skillancer-web"], "target: Value error, deployments: each deployment may appear only once"),
        (["--reason", "no"], "reason (--reason): String should have at least 3 characters"),
        (["--service", "Skillancer"], "service (--service): String should match pattern"),
    ],
)
def test_input_is_validated_before_aws_is_asked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, options: list[str], problem: str
) -> None:
    # Given an endpoint nobody listens on (a call to it would exit 3)
    for variable, value in cli_env(AWS_MAX_ATTEMPTS="1").items():
        if variable.startswith("AWS_"):
            monkeypatch.setenv(variable, value)
    endpoint = ["--endpoint-url", closed_endpoint(), "--region", "us-east-1"]
    # When the input has a bad field, even a falsy one, and --confirm
    start = ["start", "kubernetes_app", *VALID, "--deployment", "skillancer-web"]
    code, out, err = run(capsys, *start, *options, "--confirm", *endpoint)
    # Then it exits 2 naming the field (its path in the input, and its option), and never called AWS
    assert code == 2, err
    assert f"invalid rollback input: {problem}" in err
    assert "Could not connect" not in err and out == ""


def test_an_unreachable_endpoint_exits_3_without_a_traceback() -> None:
    # Given an endpoint nobody listens on
    closed = closed_endpoint()
    # When the command is used against it (as its own process)
    result = rollback("list", endpoint_url=closed, AWS_MAX_ATTEMPTS="1")
    # Then it says so and exits 3
    assert result.returncode == 3, result.stderr
    assert "Could not connect" in result.stderr and "Traceback" not in result.stderr


def test_default_execution_names_fit_step_functions() -> None:
    now = datetime(2026, 11, 28, 3, 0, 5, tzinfo=UTC)
    assert default_name("skillancer", "production", now) == "skillancer-production-20261128T030005Z"
    long = default_name("s" * 63, "e" * 63, now)
    assert len(long) == 80 and long.endswith("-20261128T030005Z")


def change(target: str, before: str, after: str, status: str = "applied") -> dict[str, object]:
    """A :class:`ChangeRecord` as a report holds it."""
    return {"target": target, "kind": "x.undo", "before": before, "after": after, "status": status, "detail": "",
            "revert": "undo it", "started_at": "2026-11-28T00:00:00Z", "parameters": {"secret": 1}}  # fmt: skip


def test_outcome_lines_read_the_generic_change_records() -> None:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    changes = [change("web", "v1.0.0", "v1.0.0-rc.5"), change("api", "v1.0.0-rc.5", "v1.0.0-rc.5", "skipped")]
    report = {"status": "SUCCEEDED", "rto_seconds": 312.4, "rto_target_seconds": 900, "changes": changes}
    done = Execution("a", "arn", "SUCCEEDED", at, at, output=report)
    assert outcome(done) == (
        "SUCCEEDED: web: v1.0.0 -> v1.0.0-rc.5, api: v1.0.0-rc.5 -> v1.0.0-rc.5 (skipped); RTO 312 s (target 900 s)"
    )
    planned_only = Execution("p", "arn", "SUCCEEDED", at, at, output={**report, "status": "PLANNED", "changes": []})
    assert outcome(planned_only).startswith("PLANNED: nothing changed")
    rejected = Execution("b", "arn", "FAILED", at, at, error="ApprovalRejected", cause="eng-lead: fix forward")
    assert outcome(rejected) == "FAILED: ApprovalRejected: eng-lead: fix forward"
    assert outcome(Execution("c", "arn", "RUNNING", at)) == "RUNNING"


def test_the_plan_is_read_from_the_prechecks_output_at_plan() -> None:
    # Given the pre-checks state exited with a RollbackPlan at $.plan (and something else in $.checks)
    plan = {
        "changes": [
            {
                "target": "web",
                "kind": "x.undo",
                "before": "v2",
                "after": "v1",
                "revert": "r",
                "resource": "x/web",
                "parameters": {"n": 3},
            },
            {
                "target": "api",
                "kind": "x.undo",
                "before": "v1",
                "after": "v1",
                "revert": "r",
                "resource": "x/api",
                "skip": True,
            },
        ],
        "feature_flag_options": [],
        "summary": "web: v2 -> v1",
    }
    exited = {"stateExitedEventDetails": {"name": "Run pre-checks", "output": json.dumps({"plan": plan, "checks": 1})}}
    # When it is read
    found = planned([{"type": "TaskStateEntered"}, exited])  # type: ignore[list-item]
    # Then the changes are there, without the type's own parameters
    assert found is not None
    assert [(c["target"], c["before"], c["after"], c["skip"]) for c in found["changes"]] == [
        ("web", "v2", "v1", False),
        ("api", "v1", "v1", True),
    ]
    assert all("parameters" not in c for c in found["changes"])
    # And an output without a plan (the old $.checks) is no plan
    old = {"stateExitedEventDetails": {"name": "Run pre-checks", "output": json.dumps({"checks": {"summary": "s"}})}}
    assert planned([old]) is None  # type: ignore[list-item]


def test_the_command_imports_only_the_shared_models_and_the_registry() -> None:
    # When the command and all its subcommands are loaded (as its own process)
    script = (
        "import json, sys; import rollback_cli.main; rollback_cli.main.cli(); print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    modules = set(json.loads(result.stdout))
    # Then nothing of the Lambda side came with them: no Kubernetes client, no Powertools, no handlers or logic
    lambda_only = ("kubernetes", "aws_lambda_powertools", "jwt", "pg8000", "functions.handlers", "functions.logic",
                   "functions.adapters", "functions.steps", "functions.change_steps")  # fmt: skip
    assert sorted(m for m in modules if m.startswith(lambda_only)) == []
    # And of the types and what they share, only their input and configuration models
    runtime_parts = ("handlers", "adapters", "execute", "plan", "checks", "api", "client", "restore_handlers",
                     "restore_steps", "restore_plan", "instances")  # fmt: skip
    runtime = [m for m in modules if m.startswith(("functions.rollbacks.", "functions.capabilities."))
               and m.rsplit(".", 1)[-1] in runtime_parts]  # fmt: skip
    assert runtime == []
    assert {"functions.models.rollback", "functions.rollbacks.registry", "click", "rich"} <= modules


def test_the_installed_console_script_answers() -> None:
    # Given the project installed (make test does `pip install --no-deps -e .` into .venv)
    script = shutil.which("rollback", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("`rollback` is not installed next to this Python: run `pip install --no-deps -e .`")
    # When it is run by its name
    result = subprocess.run([script, "--help"], capture_output=True, text=True, env=cli_env(), check=False)
    # Then it is this command
    assert result.returncode == 0, result.stderr
    assert "start" in result.stdout and "history" in result.stdout and "exit codes" in result.stdout
