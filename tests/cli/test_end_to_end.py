"""The `rollback` command end to end: a separate process talking HTTP to the whole pipeline on the emulators."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local import approver
from local.pipeline import DEPLOYMENTS, LocalPipeline
from local.synth import Synthesized
from tests.cli.runner import rollback, start_rollback

SKILLANCER = [
    "kubernetes_app", "--service", "skillancer", "--environment", "production",
    "--deployment", "skillancer-web", "--deployment", "skillancer-api",
    "--reason", "v1.0.0 returns 500 on checkout", "--requested-by", "sre-on-duty@skillancer.com", "--severity", "P0",
]  # fmt: skip
TO_RC5 = [*SKILLANCER, "--version", "v1.0.0-rc.5"]
BROKEN = {d: f"registry.example.com/{d}:v1.0.0" for d in DEPLOYMENTS}
RC5 = {d: f"registry.example.com/{d}:v1.0.0-rc.5" for d in DEPLOYMENTS}


@pytest.fixture(scope="module")
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized, serve_aws=True) as running:
        yield running


@pytest.fixture
def cli(pipeline: LocalPipeline) -> Any:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return rollback(*args, endpoint_url=pipeline.aws.endpoint_url)

    return run


def executions(pipeline: LocalPipeline) -> dict[str, str]:
    listed = pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"]
    return {e["name"]: e["status"] for e in listed}


def test_without_confirm_it_shows_the_plan_and_starts_nothing(pipeline: LocalPipeline, cli: Any) -> None:
    # Given the deployed pipeline and nothing started yet
    before = executions(pipeline)
    # When a rollback is asked for without --confirm
    result = cli("start", *TO_RC5, "--name", "cli-preview")
    # Then it shows the state machine, the name and the input, and starts nothing
    assert result.returncode == 0, result.stderr
    assert pipeline.state_machine_arn in result.stdout and "cli-preview" in result.stdout
    assert '"rollback_type": "kubernetes_app"' in result.stdout and '"to_version": "v1.0.0-rc.5"' in result.stdout
    assert "Nothing started: add --confirm to start it." in result.stdout
    assert executions(pipeline) == before
    # And as JSON the input is the shared envelope with the type's own options under "target"
    shown = json.loads(cli("start", *TO_RC5, "--name", "cli-preview", "--output", "json").stdout)
    assert shown["started"] is False and shown["state_machine_arn"] == pipeline.state_machine_arn
    assert shown["input"] == {
        "rollback_type": "kubernetes_app",
        "service": "skillancer",
        "environment": "production",
        "reason": "v1.0.0 returns 500 on checkout",
        "requested_by": "sre-on-duty@skillancer.com",
        "severity": "P0",
        "dry_run": False,
        "target": {"deployments": ["skillancer-web", "skillancer-api"], "to_version": "v1.0.0-rc.5"},
    }
    assert executions(pipeline) == before


def test_an_invalid_field_is_refused_by_name_before_anything_starts(pipeline: LocalPipeline, cli: Any) -> None:
    # Given the deployed pipeline
    before = executions(pipeline)
    # When a deployment name is not a Kubernetes name, even with --confirm
    result = cli("start", *SKILLANCER[:5], "--deployment", "Bad_Name", "--reason", "broken", "--confirm")
    # Then it exits 2 naming the field and its option, and nothing was started
    assert result.returncode == 2, result.stderr
    assert "invalid rollback input: target.deployments.0 (--deployment): String should match pattern" in result.stderr
    assert executions(pipeline) == before


def test_a_dry_run_reports_the_plan_and_changes_nothing(pipeline: LocalPipeline, cli: Any) -> None:
    # Given both deployments run the broken v1.0.0
    assert pipeline.images() == BROKEN
    # When a dry run is started with --confirm
    started = cli("start", *TO_RC5, "--dry-run", "--confirm", "--name", "cli-dry-run")
    assert started.returncode == 0, started.stderr
    result = pipeline.wait(started.stdout.split()[1])
    # Then the workflow succeeds with a PLANNED report and the cluster is untouched
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["status"] == "PLANNED"
    assert pipeline.images() == BROKEN
    # And status shows its states, the plan (one line per planned change) and the outcome
    shown = cli("status", "cli-dry-run")
    assert shown.returncode == 0, shown.stderr
    assert "Run pre-checks" in shown.stdout and "Report plan" in shown.stdout
    assert "Acquire lock" not in shown.stdout
    plan = [line.split("plan: ", 1)[1] for line in shown.stdout.splitlines() if "plan: " in line]
    assert plan == [f"deployment/{d} (namespace production): v1.0.0 -> v1.0.0-rc.5" for d in DEPLOYMENTS]
    assert shown.stdout.rstrip().endswith("PLANNED: nothing changed")
    # And as JSON the plan is the generic one, without the type's own parameters
    planned = json.loads(cli("status", "cli-dry-run", "--output", "json").stdout)["plan"]
    assert [(c["target"], c["before"], c["after"], c["skip"]) for c in planned["changes"]] == [
        (f"deployment/{d} (namespace production)", "v1.0.0", "v1.0.0-rc.5", False) for d in DEPLOYMENTS
    ]
    assert all("parameters" not in c for c in planned["changes"]) and "revision 3" in planned["summary"]
    history = cli("history", "skillancer")
    assert any("cli-dry-run" in row and "PLANNED: nothing changed" in row for row in history.stdout.splitlines())


def test_a_confirmed_rollback_waits_for_approval_and_follow_shows_it_to_the_end(
    pipeline: LocalPipeline, cli: Any
) -> None:
    # Given a rollback started with --confirm
    started = cli("start", *TO_RC5, "--confirm", "--name", "cli-rollback")
    assert started.returncode == 0, started.stderr
    arn = started.stdout.split()[1]
    assert arn.endswith(":execution:RollbackPipeline-kubernetes-app:cli-rollback")
    # Then it runs and reaches "Request approval"
    pipeline.wait_for_state(arn, "Request approval")
    assert executions(pipeline)["cli-rollback"] == "RUNNING"
    # And status (the latest by default) and list --status RUNNING show it waiting
    latest = cli("status")
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.startswith("cli-rollback: RUNNING") and "Request approval" in latest.stdout
    running = json.loads(cli("list", "--status", "RUNNING", "--output", "json").stdout)
    assert [(e["name"], e["rollback_type"]) for e in running] == [("cli-rollback", "kubernetes_app")]

    # When `status --follow` runs while on-call and lead approve
    endpoint = pipeline.aws.endpoint_url
    follow = start_rollback("status", "cli-rollback", "--follow", "--poll", "0.1", endpoint_url=endpoint)
    watchdog = threading.Timer(60, follow.kill)
    watchdog.start()
    try:
        assert follow.stdout is not None and follow.stderr is not None
        printed: list[str] = []
        while not printed or "Request approval" not in printed[-1]:
            printed.append(follow.stdout.readline())
            assert printed[-1], f"follow ended before the approval: {''.join(printed)}{follow.stderr.read()}"
        pipeline.approval_requests(count=3)
        approver.decide(pipeline.link_for("oncall-primary@skillancer.com"), "approve")
        approver.decide(pipeline.link_for("eng-lead@skillancer.com"), "approve")
        printed += follow.stdout.readlines()
        errors = follow.stderr.read()
        code = follow.wait()
    finally:
        watchdog.cancel()
        follow.kill()
    # Then it printed each state in order as it happened and ends 0 with the report's summary
    assert code == 0, "".join(printed) + errors
    assert printed[0].startswith("cli-rollback: RUNNING (started ")
    states = [line.split(maxsplit=1)[1].strip() for line in printed if line.startswith("  ") and "plan:" not in line]
    order = ["Validate input", "Request approval", "Roll back deployments", "Verify service health", "Release lock"]
    assert list(dict.fromkeys(s for s in states if s in order)) == order, states
    last = printed[-1]
    assert last.startswith("SUCCEEDED: ") and "; RTO " in last, last
    assert "; record: s3://" in last and "/records/skillancer/production/" in last  # where the record is kept
    assert "; logs: s3://" in last and "/records/skillancer/production/cli-rollback/logs.json" in last  # and the logs
    assert "deployment/skillancer-web (namespace production): v1.0.0 -> v1.0.0-rc.5" in last
    assert "deployment/skillancer-api (namespace production): v1.0.0 -> v1.0.0-rc.5" in last
    assert pipeline.images() == RC5

    # And list and history show it with its outcome
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    table = [line.split() for line in listed.stdout.splitlines()]  # piped: one row a line, no rule, no border
    assert table[0] == ["NAME", "STATUS", "STARTED", "(UTC)", "STOPPED", "(UTC)", "TYPE"]
    row = next(cells for cells in table if cells[0] == "cli-rollback")
    assert (row[1], row[-1], len(row)) == ("SUCCEEDED", "kubernetes_app", 7)
    history = cli("history", "skillancer")
    assert history.returncode == 0, history.stderr
    rows = history.stdout.splitlines()
    assert rows[0].split() == ["STARTED", "(UTC)", "NAME", "OUTCOME"]
    assert "cli-rollback" in rows[1] and "SUCCEEDED: deployment/skillancer-" in rows[1]  # newest first
    report = json.loads(cli("status", "cli-rollback", "--output", "json").stdout)["report"]
    assert report["status"] == "SUCCEEDED" and report["rto_met"] is True
    assert sorted((c["before"], c["after"], c["status"]) for c in report["changes"]) == [
        ("v1.0.0", "v1.0.0-rc.5", "applied"),
        ("v1.0.0", "v1.0.0-rc.5", "applied"),
    ]
    assert all("parameters" not in c for c in report["changes"])


def test_follow_ends_1_with_the_error_when_the_rollback_fails(pipeline: LocalPipeline, cli: Any) -> None:
    # Given a rollback no configured approver could ever approve (the workflow refuses it; the CLI cannot know)
    started = cli("start", *TO_RC5, "--role", "chief-of-rollbacks", "--confirm", "--name", "cli-unapprovable")
    assert started.returncode == 0, started.stderr
    # When it is followed
    followed = cli("status", "cli-unapprovable", "--follow", "--poll", "0.1")
    # Then it exits 1 with the workflow's error and cause
    assert followed.returncode == 1, followed.stdout + followed.stderr
    assert "FAILED: InvalidRollbackInput: " in followed.stdout and "chief-of-rollbacks" in followed.stdout
    # And history as JSON records it for the service
    history = json.loads(cli("history", "skillancer", "--output", "json").stdout)
    failed = next(e for e in history if e["name"] == "cli-unapprovable")
    assert (failed["status"], failed["error"], failed["input"]["required_roles"]) == (
        "FAILED",
        "InvalidRollbackInput",
        ["chief-of-rollbacks"],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "no-such-rollback"], "ExecutionDoesNotExist"),
        (["list", "--stack", "Elsewhere"], "Elsewhere-kubernetes-app: is the stack 'Elsewhere' deployed"),
        (["start", *TO_RC5, "--name", "has spaces"], "--name: 'has spaces' must be"),
    ],
)
def test_what_does_not_exist_is_a_usage_error(cli: Any, args: list[str], message: str) -> None:
    # When asked for something that is not there (or cannot be named so)
    result = cli(*args)
    # Then it exits 2 with a one-line message, no traceback
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_history_of_a_service_never_rolled_back_is_empty(cli: Any) -> None:
    result = cli("history", "billing", "--output", "json")
    assert result.returncode == 0 and json.loads(result.stdout) == []
