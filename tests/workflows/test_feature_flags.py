"""Feature-flag rollbacks end to end on the emulators (runbook procedure 3): the synthesized state machine, the real
handlers, moto, and Doppler's API faked on 127.0.0.1 (token from Secrets Manager, every call checked at the wire).

Approve -> the flags are set, read back, verified, reported with how to revert; the revert (a rollback of its own)
restores the exact prior values; the second flag failing -> the first is put back, FAILED, notified, lock released;
a flag changed after the approval -> refused, nothing written; a write whose answer was lost -> retried, not
written twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local import approver
from local.pipeline import FLAGS, NAMESPACE, LocalPipeline
from local.synth import Synthesized
from rollback_cli.revert import revert_input

RC5 = "registry.example.com/skillancer-api:v1.0.0-rc.5"
APPROVERS = ("oncall-primary@skillancer.com", "eng-lead@skillancer.com")


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """The pipeline, with the application itself healthy (a feature is what broke)."""
    with LocalPipeline(synthesized) as running:
        running.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5)
        running.kube.settle()
        yield running


def flag_input(pipeline: LocalPipeline, flags: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": {"flags": flags},
        "reason": "SkillPod sessions crash the matching service",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Major feature broken (>50% users)",
        "severity": "P1",
        "health_urls": [pipeline.health.url_for("skillancer-api")],
        **changes,
    }


OFF = [
    {"name": "FEATURE_SKILLPOD_ENABLED", "enabled": False},
    {"name": "FEATURE_NEW_MATCHING", "enabled": False},
    {"name": "MAINTENANCE_MODE", "enabled": False},
]


def start(pipeline: LocalPipeline, name: str, payload: dict[str, Any]) -> str:
    arn = pipeline.deployment.state_machine_arn("FeatureFlag")
    return str(pipeline.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])


def approve(pipeline: LocalPipeline, execution: str, emails_before: int = 0) -> None:
    """On-call and lead approve through the links of the emails that arrived after the first ``emails_before``."""
    pipeline.wait_for_state(execution, "Request approval")
    deadline = time.monotonic() + 30
    while not set(APPROVERS) <= {e.recipient for e in pipeline.approval_emails.received[emails_before:] if e.links}:
        assert time.monotonic() < deadline, "the approval emails did not arrive"
        pipeline.approval_emails.fetch()
        time.sleep(0.02)
    received = pipeline.approval_emails.received[emails_before:]
    for email in APPROVERS:
        link = next(e.links[0] for e in received if e.recipient == email and e.links)
        assert approver.decide(link, "approve").status == 200


def test_approved_flags_are_set_verified_reported_and_the_revert_restores_them(pipeline: LocalPipeline) -> None:
    # Given skillpod and new matching on, maintenance mode off (already as wanted)
    execution = start(pipeline, "flags-1", flag_input(pipeline, OFF))
    pipeline.wait_for_state(execution, "Request approval")
    # Then approvers see each flag's current value and what it becomes
    page = approver.view(pipeline.link_for(APPROVERS[0]))
    assert "FEATURE_SKILLPOD_ENABLED" in page.text and "Doppler skillancer/prd" in page.text
    # When on-call and lead approve
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the two flags are off in Doppler, each written once, maintenance mode untouched
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    assert pipeline.doppler.values == {**FLAGS, "FEATURE_SKILLPOD_ENABLED": "false", "FEATURE_NEW_MATCHING": "false"}
    assert pipeline.doppler.writes == [("FEATURE_SKILLPOD_ENABLED", "false"), ("FEATURE_NEW_MATCHING", "false")]
    assert "Check flags" in pipeline.states_entered(execution)
    # And the report records each flag's previous value and the exact command that reverts it
    report = json.loads(result["output"])
    statuses = {c["target"]: (c["before"], c["after"], c["status"]) for c in report["changes"]}
    assert statuses == {
        "flag FEATURE_SKILLPOD_ENABLED": ("true", "false", "applied"),
        "flag FEATURE_NEW_MATCHING": ("true", "false", "applied"),
        "flag MAINTENANCE_MODE": ("false", "false", "skipped"),
    }
    assert all(c["revert"].startswith("rollback revert flags-1 ") for c in report["changes"])
    assert pipeline.lock_holder() is None

    # When the fix is out and the revert is started and approved (the input `rollback revert flags-1` starts)
    original = json.loads(pipeline.describe(execution)["input"])
    payload = revert_input(
        "feature_flag", "flags-1", original, report["changes"], requested_by="sre-on-duty@skillancer.com"
    )
    assert payload["target"] == {
        "flags": [
            {"name": "FEATURE_SKILLPOD_ENABLED", "enabled": True},
            {"name": "FEATURE_NEW_MATCHING", "enabled": True},
        ]
    }
    emails_before = pipeline.approval_emails_so_far()
    revert = start(pipeline, "flags-1-revert", {**payload, "health_urls": original["health_urls"]})
    approve(pipeline, revert, emails_before)
    reverted = pipeline.wait(revert)
    # Then Doppler holds exactly what it held before the rollback, the two flags written back once each
    assert reverted["status"] == "SUCCEEDED", (reverted.get("error"), reverted.get("cause"))
    assert pipeline.doppler.values == FLAGS
    assert pipeline.doppler.writes[2:] == [("FEATURE_SKILLPOD_ENABLED", "true"), ("FEATURE_NEW_MATCHING", "true")]


def test_a_second_flag_that_fails_puts_the_first_back_and_fails(pipeline: LocalPipeline) -> None:
    # Given Doppler refuses every write of the second flag (a 500 that outlasts the retries)
    pipeline.doppler.faults.fail_writes_of("FEATURE_NEW_MATCHING", status=500)
    execution = start(pipeline, "flags-half", flag_input(pipeline, OFF[:2]))
    # When the rollback is approved
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it fails with the provider's error after putting the first flag back: Doppler holds what it held
    assert result["status"] == "FAILED", result
    assert "Put flags back" in pipeline.states_entered(execution)
    assert pipeline.doppler.values == FLAGS
    assert pipeline.doppler.writes == [("FEATURE_SKILLPOD_ENABLED", "false"), ("FEATURE_SKILLPOD_ENABLED", "true")]
    # And the report records the put-back as its own change, the failure is notified, and the lock released
    report = pipeline.recorded_report("flags-half")
    assert report is not None
    records = {c["target"]: c["status"] for c in report["changes"]}
    assert records["flag FEATURE_SKILLPOD_ENABLED"] == "applied"
    assert records["flag FEATURE_SKILLPOD_ENABLED (put back)"] == "applied"
    assert records["flag FEATURE_NEW_MATCHING"] in ("failed", "unconfirmed")
    subjects = [e.subject for e in pipeline.notifications.fetch() if "Rollback" in e.subject]
    assert any("FAILED" in s for s in subjects), subjects
    assert pipeline.lock_holder() is None


def test_a_flag_changed_after_the_approval_is_refused_and_nothing_is_written(pipeline: LocalPipeline) -> None:
    # Given approvers saw skillpod on and new matching on
    execution = start(pipeline, "flags-moved", flag_input(pipeline, OFF[:2]))
    pipeline.wait_for_state(execution, "Request approval")
    # When someone switches skillpod off by hand before the approval lands
    pipeline.doppler.set("FEATURE_SKILLPOD_ENABLED", "false")
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the change step refuses (the flag is not what approvers saw), and nothing at all is written
    assert (result["status"], result["error"]) == ("FAILED", "FlagChangedSinceApproval"), result
    assert "approvers saw true" in result["cause"]
    assert pipeline.doppler.writes == []
    assert pipeline.doppler.values == {**FLAGS, "FEATURE_SKILLPOD_ENABLED": "false"}
    assert pipeline.lock_holder() is None


def test_a_write_whose_answer_was_lost_is_retried_without_writing_twice(pipeline: LocalPipeline) -> None:
    # Given Doppler makes the next write and then answers 502 (the answer is lost)
    execution = start(pipeline, "flags-retry", flag_input(pipeline, OFF[:1]))
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.doppler.faults.lose_answer_of_next_write(502)
    # When the rollback is approved
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the step is retried, finds its own write, and writes nothing again
    assert result["status"] == "SUCCEEDED", result
    assert pipeline.doppler.writes == [("FEATURE_SKILLPOD_ENABLED", "false")]
    (change,) = json.loads(result["output"])["changes"]
    assert change["status"] == "applied" and "nothing written again" in change["detail"]
