"""The team's smoke tests (runbook: `npm run test:smoke -- --env=production`) as part of verification: a CodeBuild
build started once per rollback and read at each verification sample; the emulators run its command here and
report as CodeBuild would. Passing smoke tests are needed to verify; failing ones fail the rollback, log linked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from local.aws.codebuild import BUILDS
from local.pipeline import LocalPipeline, rollback_input
from local.synth import Synthesized, synthesize
from tests.workflows.test_kubernetes_app import approve_on_call_and_lead

PROJECT = "skillancer-smoke-tests"
COMMAND = 'echo "smoke tests against $ROLLBACK_ENVIRONMENT: $SMOKE_OUTCOME"; test "$SMOKE_OUTCOME" = pass'


@pytest.fixture(scope="module")
def with_smoke_tests() -> Synthesized:
    return synthesize({"smoke_tests": {"production": {"project": PROJECT, "command": COMMAND}}})


@pytest.fixture
def pipeline(with_smoke_tests: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(with_smoke_tests, environment={"VERIFY_TIMEOUT_SECONDS": "20"}) as running:
        boto3.client("codebuild").create_project(
            name=PROJECT, source={"type": "S3", "location": "skillancer-builds/web-source.zip"},
            artifacts={"type": "NO_ARTIFACTS"}, serviceRole="arn:aws:iam::123456789012:role/smoke-tests",
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                         "computeType": "BUILD_GENERAL1_SMALL"},
        )  # fmt: skip
        yield running


def verification_samples(pipeline: LocalPipeline, execution: str) -> list[dict[str, object]]:
    return [
        json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
        for e in pipeline.aws.execution_events(execution)
        if e["type"] == "LambdaFunctionSucceeded" and '"smoke"' in e["lambdaFunctionSucceededEventDetails"]["output"]
    ]


def test_passing_smoke_tests_verify_the_rollback_with_one_build(pipeline: LocalPipeline) -> None:
    # Given smoke tests that pass (run here, as the build would run them)
    BUILDS.run_locally(PROJECT, environment={"SMOKE_OUTCOME": "pass"}, timeout=30)
    # When the rollback is approved and verified
    execution = pipeline.start(rollback_input(), name="smoke-pass")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it succeeded after the smoke build passed, and one build ran however many samples read it
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    (build,) = BUILDS.started(PROJECT)
    assert build.variables["ROLLBACK_ENVIRONMENT"] == "production"
    assert "smoke tests against production: pass" in BUILDS.log_of(build.build_id)
    last = verification_samples(pipeline, execution)[-1]
    assert last["healthy"] is True and last["smoke"]["status"] == "SUCCEEDED"  # type: ignore[index]


def test_failing_smoke_tests_fail_the_rollback_with_their_log_linked(pipeline: LocalPipeline) -> None:
    BUILDS.run_locally(PROJECT, environment={"SMOKE_OUTCOME": "fail"}, timeout=30)
    execution = pipeline.start(rollback_input(), name="smoke-fail")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it is not verified: it fails naming the smoke build's failed phase and linking its log
    assert (result["status"], result["error"]) == ("FAILED", "ServiceUnhealthy"), result
    assert f"smoke tests {PROJECT} FAILED: BUILD phase FAILED; log: https://" in result["cause"]
    assert pipeline.lock_holder() is None
