"""Faults injected at the wire of the fake cluster while an approved rollback of skillancer-web and
skillancer-api runs. Each ends in the right terminal state with the lock released, exactly one report whose
changes are what the cluster shows, retries in the history where the fault was transient, nothing posted twice."""

from __future__ import annotations

import json
from typing import Any

from local import approver
from local.pipeline import NAMESPACE, LocalPipeline, rollback_input

RC5 = "registry.example.com/{}:v1.0.0-rc.5"
WEB, API = "skillancer-web", "skillancer-api"
PATCH_API = f"/namespaces/{NAMESPACE}/deployments/{API}"
PATCH_WEB = f"/namespaces/{NAMESPACE}/deployments/{WEB}"


def approved_run(pipeline: LocalPipeline, name: str) -> dict[str, Any]:
    execution = pipeline.start(rollback_input(), name=name)
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=3)
    approver.decide(pipeline.link_for("oncall-primary@skillancer.com"), "approve")
    approver.decide(pipeline.link_for("eng-lead@skillancer.com"), "approve")
    return pipeline.wait(execution, timeout=120)


def failed_attempts(pipeline: LocalPipeline, execution: str) -> list[str]:
    """The error of each failed Lambda attempt, in order (a retried step fails, then succeeds)."""
    return [
        json.loads(e["lambdaFunctionFailedEventDetails"].get("cause") or "{}").get("errorType", "")
        or e["lambdaFunctionFailedEventDetails"].get("error", "")
        for e in pipeline.aws.execution_events(execution)
        if e["type"] == "LambdaFunctionFailed"
    ]


def assert_recorded_as_the_cluster_is(pipeline: LocalPipeline, name: str, status: str) -> dict[str, Any]:
    report = pipeline.recorded_report(name)
    assert report is not None and report["status"] == status
    moved = {c["target"].split("/")[1].split(" ")[0] for c in report["changes"] if c["status"] == "applied"}
    at_rc5 = {d for d, image in pipeline.images().items() if image == RC5.format(d)}
    assert moved == at_rc5, (report["changes"], pipeline.images())
    assert pipeline.lock_holder() is None
    for kind in ("ROLLBACK INITIATED", "ROLLBACK VERIFIED"):  # each announcement once, however often retried
        assert len([m for m in pipeline.slack.messages if kind in m["text"]]) <= 1
    assert len(pipeline.statuspage.incidents) <= 1
    reports = [e for e in pipeline.notifications.fetch() if "Rollback " in e.subject]
    assert len(reports) == 1, [e.subject for e in reports]
    return report


def test_a_server_error_on_a_patch_is_retried_and_the_rollback_completes(pipeline: LocalPipeline) -> None:
    # Given the API server answers the first PATCH of skillancer-api with a 500 (and applies nothing)
    pipeline.kube.answer_next("PATCH", PATCH_API, 500, message="etcdserver: request timed out")
    # When the approved rollback runs
    result = approved_run(pipeline, "fault-500")
    # Then the step was retried as transient, and both deployments are back on rc.5, as the report says
    assert result["status"] == "SUCCEEDED", result
    assert "TransientError" in failed_attempts(pipeline, result["executionArn"])
    report = assert_recorded_as_the_cluster_is(pipeline, "fault-500", "SUCCEEDED")
    assert {c["status"] for c in report["changes"]} == {"applied"}


def test_a_patch_applied_but_never_answered_is_read_back_not_repeated(pipeline: LocalPipeline) -> None:
    # Given the PATCH of skillancer-web is applied, but its answer is lost (the connection drops)
    pipeline.kube.apply_next_without_answering("PATCH", PATCH_WEB)
    # When the approved rollback runs
    result = approved_run(pipeline, "fault-lost-answer")
    # Then the retried step found the change made (one PATCH reached the world), and reports it applied
    assert result["status"] == "SUCCEEDED", result
    assert "TransientError" in failed_attempts(pipeline, result["executionArn"])
    web_patches = [r for r in pipeline.kube.requests if r.method == "PATCH" and r.path.endswith(PATCH_WEB)]
    assert len(web_patches) == 1
    report = assert_recorded_as_the_cluster_is(pipeline, "fault-lost-answer", "SUCCEEDED")
    (web,) = [c for c in report["changes"] if WEB in c["target"]]
    assert web["status"] == "applied" and "found rolled back already" in web["detail"]


def test_throttling_while_planning_is_retried(pipeline: LocalPipeline) -> None:
    # Given the API server throttles the first two reads of skillancer-web
    pipeline.kube.answer_next("GET", PATCH_WEB, 429, message="Too many requests, please try again later.", times=2)
    # When the approved rollback runs
    result = approved_run(pipeline, "fault-429")
    # Then the pre-checks were retried and the rollback completed
    assert result["status"] == "SUCCEEDED", result
    assert failed_attempts(pipeline, result["executionArn"]).count("TransientError") == 2
    assert_recorded_as_the_cluster_is(pipeline, "fault-429", "SUCCEEDED")


def test_a_huge_error_body_is_bounded_and_the_failure_is_still_recorded(pipeline: LocalPipeline) -> None:
    # Given the PATCH of skillancer-api is refused with a 90 KB error message (a permanent error)
    pipeline.kube.answer_next("PATCH", PATCH_API, 400, message="admission webhook denied: " + "x" * 90_000)
    # When the approved rollback runs
    result = approved_run(pipeline, "fault-huge")
    # Then it fails, its cause is bounded, and the report says skillancer-web moved and skillancer-api did not
    assert result["status"] == "FAILED", result
    assert len(result.get("cause") or "") < 6_000
    report = assert_recorded_as_the_cluster_is(pipeline, "fault-huge", "FAILED")
    assert report["partial"] is True
    (api,) = [c for c in report["changes"] if API in c["target"]]
    assert api["status"] == "failed" and len(api["detail"]) <= 1_000
    assert len(json.dumps(report)) < 100_000
