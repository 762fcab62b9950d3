"""The `rollback` command without a pipeline: help, usage errors, AWS unreachable, the installed script."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from functions.cli.aws import Execution
from functions.cli.render import outcome
from functions.cli.start import default_name
from tests.cli.runner import cli_env, rollback

START_OPTIONS = [
    "kubernetes_app", "--service", "--environment", "--namespace", "--deployment", "--version", "--revision",
    "--reason", "--requested-by", "--severity", "--scenario", "--role", "--dry-run", "--confirm", "--name",
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ([], ["start", "status", "list", "history", "exit codes"]),
        (["start"], START_OPTIONS),
        (["status"], ["execution", "--follow", "--poll"]),
        (["list"], ["--status", "RUNNING", "--max"]),
        (["history"], ["service", "--max"]),
    ],
)
def test_help_of_every_command_lists_its_options(command: list[str], mentions: list[str]) -> None:
    # When asked for help
    result = rollback(*command, "--help")
    # Then it exits 0 and names every option, and (for subcommands) where to run it
    assert result.returncode == 0, result.stderr
    for option in mentions:
        assert option in result.stdout
    if command:
        for option in ("--endpoint-url", "--region", "--stack", "--output"):
            assert option in result.stdout


def test_missing_required_options_are_a_usage_error() -> None:
    result = rollback("start", "kubernetes_app", "--service", "skillancer")
    assert result.returncode == 2
    assert "--environment" in result.stderr and "--reason" in result.stderr


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("option", "field"),
    [
        (["--revision", "0"], "to_revision"),
        (["--version", ""], "to_version"),
        (["--namespace", "Prod"], "namespace"),
    ],
)
def test_input_is_validated_before_aws_is_asked(option: list[str], field: str) -> None:
    # Given an endpoint nobody listens on (a call to it would exit 3)
    # When the input has a bad field, even a falsy one
    start = ["start", "kubernetes_app", "--service", "skillancer", "--environment", "production"]
    result = rollback(*start, "--deployment", "skillancer-web", "--reason", "broken", *option, "--confirm",
                      endpoint_url=closed_endpoint(), AWS_MAX_ATTEMPTS="1")  # fmt: skip
    # Then it exits 2 naming the field
    assert result.returncode == 2, result.stderr
    assert f"invalid rollback input: {field}" in result.stderr


def test_an_unreachable_endpoint_exits_3_without_a_traceback() -> None:
    # Given an endpoint nobody listens on
    closed = closed_endpoint()
    # When the command is used against it
    result = rollback("list", endpoint_url=closed, AWS_MAX_ATTEMPTS="1")
    # Then it says so and exits 3
    assert result.returncode == 3, result.stderr
    assert "Could not connect" in result.stderr and "Traceback" not in result.stderr


def test_default_execution_names_fit_step_functions() -> None:
    now = datetime(2026, 11, 28, 3, 0, 5, tzinfo=UTC)
    assert default_name("skillancer", "production", now) == "skillancer-production-20261128T030005Z"
    long = default_name("s" * 63, "e" * 63, now)
    assert len(long) == 80 and long.endswith("-20261128T030005Z")


def test_outcome_lines() -> None:
    at = datetime(2026, 11, 28, tzinfo=UTC)
    report = {"status": "SUCCEEDED", "rto_seconds": 312.4, "rto_target_seconds": 900,
              "changes": [{"target": "skillancer-web", "from": "v1.0.0", "to": "v1.0.0-rc.5"}]}  # fmt: skip
    done = Execution("a", "arn", "SUCCEEDED", at, at, output=report)
    assert outcome(done) == "SUCCEEDED: skillancer-web v1.0.0 -> v1.0.0-rc.5; RTO 312 s (target 900 s)"
    rejected = Execution("b", "arn", "FAILED", at, at, error="ApprovalRejected", cause="eng-lead: fix forward")
    assert outcome(rejected) == "FAILED: ApprovalRejected: eng-lead: fix forward"
    assert outcome(Execution("c", "arn", "RUNNING", at)) == "RUNNING"


def test_the_installed_console_script_answers() -> None:
    # Given the project installed (make test does `pip install -e .` into .venv)
    script = shutil.which("rollback", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("`rollback` is not installed next to this Python: run `pip install --no-deps -e .`")
    # When it is run by its name
    result = subprocess.run([script, "--help"], capture_output=True, text=True, env=cli_env(), check=False)
    # Then it is this command
    assert result.returncode == 0, result.stderr
    assert "start" in result.stdout and "history" in result.stdout and "exit codes" in result.stdout
