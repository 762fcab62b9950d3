"""The `rollback` CLI end to end: a separate process talking HTTP to the emulators (moto's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from local import approver
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized

START = [
    "start", "kubernetes_app", "--service", "skillancer", "--environment", "production",
    "--deployment", "skillancer-web", "--deployment", "skillancer-api", "--version", "v1.0.0-rc.5",
    "--reason", "v1.0.0 returns 500", "--requested-by", "sre@skillancer.com", "--severity", "P0",
]  # fmt: skip


@pytest.fixture(scope="module")
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized, serve_aws=True) as running:
        yield running


def rollback(pipeline: LocalPipeline, *args: str) -> subprocess.CompletedProcess[str]:
    assert pipeline.aws.endpoint_url is not None
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-m", "functions.cli.main", *args]
    if "--help" not in args:
        command += ["--endpoint-url", pipeline.aws.endpoint_url, "--region", "us-east-1"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def executions(pipeline: LocalPipeline) -> list[dict[str, str]]:
    return list(pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"])


def test_without_confirm_it_only_shows_the_plan(pipeline: LocalPipeline) -> None:
    before = len(executions(pipeline))
    result = rollback(pipeline, *START, "--name", "cli-preview")
    assert result.returncode == 0, result.stderr
    assert "Nothing started: add --confirm" in result.stdout and '"to_version": "v1.0.0-rc.5"' in result.stdout
    assert len(executions(pipeline)) == before


def test_bad_input_is_refused_naming_the_field(pipeline: LocalPipeline) -> None:
    result = rollback(pipeline, *START, "--deployment", "Bad_Name", "--confirm")
    assert result.returncode == 2
    assert "deployments.2" in result.stderr


def test_dry_run_plans_and_changes_nothing(pipeline: LocalPipeline) -> None:
    images = pipeline.images()
    result = rollback(pipeline, *START, "--dry-run", "--confirm", "--name", "cli-dry-run")
    assert result.returncode == 0, result.stderr
    followed = rollback(pipeline, "status", "cli-dry-run", "--follow", "--poll", "0.1")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "Report plan" in followed.stdout and "PLANNED" in followed.stdout
    assert pipeline.images() == images


def test_start_follow_and_list_an_approved_rollback(pipeline: LocalPipeline) -> None:
    # Given a rollback started from the command line
    started = rollback(pipeline, *START, "--confirm", "--name", "cli-rollback")
    assert started.returncode == 0, started.stderr
    execution = started.stdout.split()[1]
    pipeline.wait_for_state(execution, "Request approval")
    # When the approvers approve, Then `status --follow` shows the states and ends 0 with the result
    approver.decide(pipeline.link_for("oncall-primary@skillancer.com"), "approve")
    approver.decide(pipeline.link_for("eng-lead@skillancer.com"), "approve")
    followed = rollback(pipeline, "status", "cli-rollback", "--follow", "--poll", "0.1")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "Request approval" in followed.stdout and "Roll back deployments" in followed.stdout
    assert "SUCCEEDED: skillancer-web v1.0.0 -> v1.0.0-rc.5" in followed.stdout
    assert pipeline.kube.deployment(NAMESPACE, "skillancer-api")["spec"]["template"]["spec"]["containers"][0][
        "image"
    ].endswith(":v1.0.0-rc.5")
    # And list / history show it
    listed = json.loads(rollback(pipeline, "list", "--output", "json").stdout)
    assert {e["name"]: e["status"] for e in listed}["cli-rollback"] == "SUCCEEDED"
    history = rollback(pipeline, "history", "skillancer")
    assert "cli-rollback" in history.stdout and "SUCCEEDED" in history.stdout


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ("start", ["--confirm", "--dry-run", "--version", "--deployment", "--endpoint-url"]),
        ("status", ["--follow", "execution"]),
        ("list", ["--status", "--max"]),
        ("history", ["service"]),
    ],
)
def test_help_is_complete(pipeline: LocalPipeline, command: str, mentions: list[str]) -> None:
    result = rollback(pipeline, command, "--help")
    assert result.returncode == 0
    for option in mentions:
        assert option in result.stdout


def test_installed_console_script_answers() -> None:
    import shutil
    from pathlib import Path

    script = shutil.which("rollback", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the project is not installed in this environment (make test installs it)")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "start" in result.stdout and "history" in result.stdout
