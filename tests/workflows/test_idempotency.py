"""Every side-effecting step is safe to run twice: Step Functions retries, and a step run again with the input it
already had must neither fail nor repeat what it did (no second undo, email, post, incident or report)."""

from __future__ import annotations

import json
from typing import Any

from local import approver
from local.pipeline import LocalPipeline, rollback_input

ON_CALL = "oncall-primary@skillancer.com"
LEAD = "eng-lead@skillancer.com"


def scheduled(pipeline: LocalPipeline, execution: str, function_prefix: str) -> list[dict[str, Any]]:
    """The inputs the workflow gave the function, from the execution history."""
    name = pipeline.deployment.function_name(function_prefix)
    inputs = []
    for event in pipeline.aws.execution_events(execution):
        details = event.get("lambdaFunctionScheduledEventDetails") or event.get("taskScheduledEventDetails") or {}
        text = details.get("input") or details.get("parameters")
        if text and name in (details.get("resource", "") + text):
            payload = json.loads(text)
            inputs.append(payload.get("Payload", payload))
    return inputs


def run_again(pipeline: LocalPipeline, function_prefix: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = pipeline.lambda_.invoke(
        FunctionName=pipeline.deployment.function_name(function_prefix), Payload=json.dumps(payload).encode()
    )
    result: dict[str, Any] = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    return result


def world(pipeline: LocalPipeline) -> dict[str, Any]:
    """Everything the pipeline can change or send, as it stands."""
    return {
        "deployments": {
            d["metadata"]["name"]: (d["metadata"]["resourceVersion"], d["metadata"]["annotations"])
            for d in pipeline.kube.deployments("production")
        },
        "slack": list(pipeline.slack.messages),
        "incidents": dict(pipeline.statuspage.incidents),
        "approval_emails": len(pipeline.approval_emails.fetch()),
        "notifications": [email.subject for email in pipeline.notifications.fetch()],
    }


def test_a_repeated_approval_request_sends_no_second_email_and_the_rollback_goes_on(pipeline: LocalPipeline) -> None:
    # Given a rollback waiting for approval, its three emails sent
    execution = pipeline.start(rollback_input(), name="twice-approval")
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=3)
    (request,) = scheduled(pipeline, execution, "FunctionsRequestApproval")
    # When the request step runs again with the same input
    again = run_again(pipeline, "FunctionsRequestApproval", request)
    # Then it succeeds for the same approval request, sends nothing, and the emailed links still decide
    assert again["notified"] == []
    assert len(pipeline.approval_emails.fetch()) == 0 and len(pipeline.approval_emails.received) == 3
    assert approver.decide(pipeline.link_for(ON_CALL), "approve").status == 200
    assert approver.decide(pipeline.link_for(LEAD), "approve").status == 200
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"


def test_steps_run_again_after_a_rollback_change_and_send_nothing(pipeline: LocalPipeline) -> None:
    # Given a rollback that succeeded: both deployments undone, announced, reported, lock released
    execution = pipeline.start(rollback_input(), name="twice-steps")
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=3)
    approver.decide(pipeline.link_for(ON_CALL), "approve")
    approver.decide(pipeline.link_for(LEAD), "approve")
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"
    before = world(pipeline)
    reports = [r for r in [pipeline.recorded_report("twice-steps")] if r]
    # When each side-effecting step runs again with the input it had
    undone = [
        run_again(pipeline, "FunctionsKubernetesAppRollBackDeployment", payload)
        for payload in scheduled(pipeline, execution, "FunctionsKubernetesAppRollBackDeployment")
    ]
    started, recovered = scheduled(pipeline, execution, "FunctionsAnnounceRollback")
    announced = run_again(pipeline, "FunctionsAnnounceRollback", started)
    announced_recovery = run_again(pipeline, "FunctionsAnnounceRollback", recovered)
    (report,) = scheduled(pipeline, execution, "FunctionsWriteReport")
    reported = run_again(pipeline, "FunctionsWriteReport", report)
    (release,) = scheduled(pipeline, execution, "FunctionsReleaseLock")
    released = run_again(pipeline, "FunctionsReleaseLock", release)
    # Then nothing in the world changed and nothing was sent again
    assert world(pipeline) == {**before, "approval_emails": 0, "notifications": []}
    # And each answered as the first run did
    assert sorted((u["target"], u["status"]) for u in undone) == [
        ("deployment/skillancer-api (namespace production)", "applied"),
        ("deployment/skillancer-web (namespace production)", "applied"),
    ]
    assert [a["detail"] for a in announced["announcements"]] == ["announced earlier; not repeated"] * 3
    assert [a["detail"] for a in announced_recovery["announcements"]] == ["announced earlier; not repeated"] * 2
    assert reported["status"] == "SUCCEEDED" and len(reported["changes"]) == 2
    assert released == {"released": False, "keys": []}
    assert len(reports) == 1 and pipeline.recorded_report("twice-steps") == reports[0]
