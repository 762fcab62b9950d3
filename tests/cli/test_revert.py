"""`rollback start feature_flag` and `rollback revert` as operators run them: a separate process over HTTP to the
pipeline on the emulators, Doppler's API faked on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from local import approver
from local.pipeline import FLAGS, NAMESPACE, LocalPipeline
from local.synth import Synthesized
from tests.cli.runner import rollback

APPROVERS = ("oncall-primary@skillancer.com", "eng-lead@skillancer.com")
SWITCH_OFF = [
    "feature_flag", "--service", "skillancer", "--environment", "production",
    "--flag", "FEATURE_SKILLPOD_ENABLED=false", "--flag", "FEATURE_NEW_MATCHING=false",
    "--reason", "SkillPod sessions crash the matching service", "--requested-by", "sre-on-duty@skillancer.com",
]  # fmt: skip


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized, serve_aws=True) as running:
        for name in ("skillancer-web", "skillancer-api"):  # the application is healthy: a feature broke
            running.kube.apply_deployment(NAMESPACE, name, image=f"registry.example.com/{name}:v1.0.0-rc.5")
        running.kube.settle()
        yield running


def approve(pipeline: LocalPipeline, name: str, emails_before: int) -> dict[str, object]:
    """On-call and lead approve the execution ``name`` (links from the emails after ``emails_before``); its end."""
    arn = pipeline.deployment.state_machine_arn("FeatureFlag").replace(":stateMachine:", ":execution:") + f":{name}"
    pipeline.wait_for_state(arn, "Request approval")
    deadline = time.monotonic() + 30
    while not set(APPROVERS) <= {e.recipient for e in pipeline.approval_emails.received[emails_before:] if e.links}:
        assert time.monotonic() < deadline, "the approval emails did not arrive"
        pipeline.approval_emails.fetch()
        time.sleep(0.02)
    for email in APPROVERS:
        link = next(e.links[0] for e in pipeline.approval_emails.received[emails_before:] if e.recipient == email)
        assert approver.decide(link, "approve").status == 200
    return pipeline.wait(arn)


def test_a_flag_rollback_started_from_the_command_line_is_reverted_by_rollback_revert(
    pipeline: LocalPipeline,
) -> None:
    url = pipeline.aws.endpoint_url
    # Given the flags switched off by a rollback started with --flag NAME=false and approved
    started = rollback("start", *SWITCH_OFF, "--name", "flags-off", "--confirm", endpoint_url=url)
    assert started.returncode == 0, started.stderr
    assert approve(pipeline, "flags-off", 0)["status"] == "SUCCEEDED"
    assert pipeline.doppler.values == {**FLAGS, "FEATURE_SKILLPOD_ENABLED": "false", "FEATURE_NEW_MATCHING": "false"}
    # When `rollback revert flags-off` is asked without --confirm
    shown = rollback("revert", "flags-off", "--requested-by", "sre-on-duty@skillancer.com", "--output", "json",
                     endpoint_url=url)  # fmt: skip
    # Then it shows a feature_flag rollback putting back each flag's previous value, and starts nothing
    assert shown.returncode == 0, shown.stderr
    preview = json.loads(shown.stdout)
    assert preview["started"] is False and preview["name"] == "flags-off-revert"
    assert preview["input"]["target"] == {
        "flags": [
            {"name": "FEATURE_SKILLPOD_ENABLED", "enabled": True},
            {"name": "FEATURE_NEW_MATCHING", "enabled": True},
        ]
    }
    # When it is confirmed and approved like any rollback
    emails_before = pipeline.approval_emails_so_far()
    confirmed = rollback("revert", "flags-off", "--requested-by", "sre-on-duty@skillancer.com", "--confirm",
                         endpoint_url=url)  # fmt: skip
    assert confirmed.returncode == 0, confirmed.stderr
    assert "rollback status flags-off-revert --follow" in confirmed.stdout
    ended = approve(pipeline, "flags-off-revert", emails_before)
    # Then Doppler holds exactly what it held before the first rollback
    assert ended["status"] == "SUCCEEDED", ended
    assert pipeline.doppler.values == FLAGS
    # And an execution that does not exist is a usage error: exit 2, nothing started
    refused = rollback("revert", "no-such-rollback", endpoint_url=url)
    assert refused.returncode == 2, refused.stdout
