"""The kubernetes_app workflow end to end: approve, reject, time out, fail, refuse, lock, dry run."""

from __future__ import annotations

import json

import pytest

from local import approver
from local.pipeline import NAMESPACE, LocalPipeline, rollback_input
from local.synth import Synthesized

RC5 = "registry.example.com/{}:v1.0.0-rc.5"
BROKEN = "registry.example.com/{}:v1.0.0"
ON_CALL = "oncall-primary@skillancer.com"
LEAD = "eng-lead@skillancer.com"


def approve_on_call_and_lead(pipeline: LocalPipeline, execution_arn: str) -> None:
    pipeline.wait_for_state(execution_arn, "Request approval")
    pipeline.approval_requests(count=3)
    first = approver.decide(pipeline.link_for(ON_CALL), "approve")
    assert first.status == 200 and "Still waiting for: lead" in first.text
    second = approver.decide(pipeline.link_for(LEAD), "approve")
    assert second.status == 200 and "Approved" in second.text


def replica_sets(pipeline: LocalPipeline, deployment: str) -> dict[str, dict[str, str]]:
    """ReplicaSet image tag -> its revision annotations."""
    result = {}
    for rs in pipeline.kube.replicasets(NAMESPACE):
        if rs["metadata"]["name"].startswith(deployment + "-"):
            image = rs["spec"]["template"]["spec"]["containers"][0]["image"]
            annotations = rs["metadata"].get("annotations", {})
            result[image.rsplit(":", 1)[1]] = {
                "revision": annotations.get("deployment.kubernetes.io/revision"),
                "history": annotations.get("deployment.kubernetes.io/revision-history"),
            }
    return result


def test_approved_rollback_brings_both_deployments_back_to_rc5_with_kubectl_numbering(pipeline: LocalPipeline) -> None:
    # Given both deployments run the broken v1.0.0 (revision 3)
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
    # When a rollback is started and on-call and lead approve
    execution = pipeline.start(rollback_input(), name="approve-1")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it succeeds, both run rc.5 from the reused ReplicaSet, renumbered as kubectl does (2 -> 4)
    assert result["status"] == "SUCCEEDED", result
    assert pipeline.images() == {d: RC5.format(d) for d in ("skillancer-web", "skillancer-api")}
    for name in ("skillancer-web", "skillancer-api"):
        deployment = pipeline.kube.deployment(NAMESPACE, name)
        assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
        assert replica_sets(pipeline, name)["v1.0.0-rc.5"] == {"revision": "4", "history": "2"}
    # And the report records approvals by role, the changes and the RTO
    report = json.loads(result["output"])
    assert report["status"] == "SUCCEEDED"
    assert {(a["approver_id"], a["role"]) for a in report["approvals"]} == {
        ("oncall-primary", "on-call"),
        ("eng-lead", "lead"),
    }
    assert sorted((c["target"], c["before"], c["after"], c["status"]) for c in report["changes"]) == [
        ("deployment/skillancer-api (namespace production)", "v1.0.0", "v1.0.0-rc.5", "applied"),
        ("deployment/skillancer-web (namespace production)", "v1.0.0", "v1.0.0-rc.5", "applied"),
    ]
    assert report["rto_seconds"] is not None and report["rto_met"] is True
    assert pipeline.lock_holder() is None
    notices = pipeline.notifications.fetch()
    assert any("Rollback SUCCEEDED" in email.subject for email in notices)
    # And the runbook's checklist was done once approved: war room, status page, support
    war_room, verified = pipeline.slack.messages
    assert war_room["text"].startswith(":rotating_light: ROLLBACK INITIATED: skillancer (production), P0")
    (incident,) = pipeline.statuspage.incidents.values()
    opened, monitoring = incident["incident_updates"]
    assert (opened["status"], opened["body"]) == ("investigating", "Investigating issues, remediation in progress")
    assert incident["impact_override"] == "critical"
    # And once verified, the same incident moved to Monitoring saying what was rolled back, the war room heard the RTO
    assert incident["status"] == monitoring["status"] == "monitoring"
    assert monitoring["body"].startswith("Rolled back and verified in ")
    assert "deployment/skillancer-api (namespace production): v1.0.0-rc.5" in monitoring["body"]
    assert verified["text"].startswith(":white_check_mark: ROLLBACK VERIFIED: skillancer (production).")
    assert any("Pause customer responses" in email.subject for email in notices)
    assert [a["ok"] for a in report["announcements"]] == [True, True, True]


def test_a_status_page_outage_does_not_hold_the_rollback(pipeline: LocalPipeline) -> None:
    pipeline.statuspage.fail_with = 503
    execution = pipeline.start(rollback_input(), name="statuspage-down-1")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    announcements = {a["channel"]: a for a in json.loads(result["output"])["announcements"]}
    assert announcements["status_page"]["ok"] is False and "HTTP 503" in announcements["status_page"]["detail"]
    assert announcements["war_room"]["ok"] is True


def test_rejection_ends_in_its_own_state_and_changes_nothing(pipeline: LocalPipeline) -> None:
    execution = pipeline.start(rollback_input(), name="reject-1")
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.approval_requests(count=3)
    page = approver.decide(pipeline.link_for(LEAD), "reject", comment="fix forward instead")
    assert page.status == 200 and "Rejected" in page.text
    result = pipeline.wait(execution)
    assert result["status"] == "FAILED"
    assert result["error"] == "ApprovalRejected"
    assert "fix forward instead" in result["cause"]
    assert "Rollback rejected" in pipeline.states_entered(execution)
    assert "Roll back deployments" not in pipeline.states_entered(execution)
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
    assert pipeline.lock_holder() is None
    report = pipeline.recorded_report("reject-1")
    assert report is not None and report["status"] == "REJECTED"


def test_malformed_input_fails_at_the_first_state_naming_the_field(pipeline: LocalPipeline) -> None:
    execution = pipeline.start(rollback_input(deployments=["Skillancer_Web"], reason=None), name="bad-input-1")
    result = pipeline.wait(execution)
    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidRollbackInput"
    assert "deployments.0" in result["cause"] and "reason: Field required" in result["cause"]
    entered = pipeline.states_entered(execution)
    assert entered[:2] == ["Receive input", "Validate input"]
    assert "Run pre-checks" not in entered and "Acquire lock" not in entered
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
    assert pipeline.approval_emails.fetch() == []


@pytest.mark.parametrize(
    ("payload", "cause"),
    [
        ("[]", "input: expected a JSON object, got list"),
        ('"skillancer"', "input: expected a JSON object, got str"),
        ("null", "input: expected a JSON object, got NoneType"),
        (json.dumps(rollback_input(to_revision=True)), "target.to_revision: Input should be a valid integer"),
    ],
)
def test_input_that_is_not_a_valid_object_fails_validation_and_still_reports(
    pipeline: LocalPipeline, payload: str, cause: str
) -> None:
    # When the workflow is started with an array, a string, null, or a boolean for a revision
    execution = pipeline.start(payload, name="not-an-object")
    result = pipeline.wait(execution)
    # Then it fails at Validate input naming the problem (not States.Runtime), and the failure is recorded
    assert (result["status"], result["error"]) == ("FAILED", "InvalidRollbackInput"), result
    assert cause in result["cause"]
    report = pipeline.recorded_report("not-an-object")
    assert report is not None and report["status"] == "FAILED"
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}


def test_dry_run_shows_the_plan_and_changes_nothing(pipeline: LocalPipeline) -> None:
    execution = pipeline.start(rollback_input(dry_run=True), name="dry-run-1")
    result = pipeline.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    report = json.loads(result["output"])
    assert report["status"] == "PLANNED"
    assert "skillancer-web: revision 3 (v1.0.0) -> revision 2 (v1.0.0-rc.5)" in report["post_mortem_markdown"]
    assert "Acquire lock" not in pipeline.states_entered(execution)
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
    assert pipeline.approval_emails.fetch() == []


def test_paused_deployment_is_refused_before_anything_changes(pipeline: LocalPipeline) -> None:
    pipeline.kube.pause(NAMESPACE, "skillancer-api")
    execution = pipeline.start(rollback_input(), name="paused-1")
    result = pipeline.wait(execution)
    assert result["status"] == "FAILED"
    assert result["error"] == "DeploymentPaused"
    assert "skillancer-api" in result["cause"]
    assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
    assert pipeline.lock_holder() is None


def test_deployment_without_history_is_refused(pipeline: LocalPipeline) -> None:
    pipeline.kube.apply_deployment(NAMESPACE, "skillancer-worker", image="registry.example.com/worker:v1")
    pipeline.kube.settle()
    execution = pipeline.start(rollback_input(deployments=["skillancer-worker"]), name="no-history-1")
    result = pipeline.wait(execution)
    assert result["status"] == "FAILED"
    assert result["error"] == "NoRolloutHistory"
    assert "skillancer-worker" in result["cause"]


def test_already_at_target_is_skipped_not_an_error(pipeline: LocalPipeline) -> None:
    # Given someone already rolled skillancer-web forward to rc.5 by hand
    pipeline.kube.apply_deployment(NAMESPACE, "skillancer-web", image=RC5.format("skillancer-web"))
    pipeline.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5.format("skillancer-api"))
    pipeline.kube.settle()
    # When a rollback to rc.5 is requested
    execution = pipeline.start(rollback_input(to_version="v1.0.0-rc.5"), name="skip-1")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it succeeds and the report says the deployments were skipped
    assert result["status"] == "SUCCEEDED", result
    assert [change["status"] for change in json.loads(result["output"])["changes"]] == ["skipped", "skipped"]


def test_second_concurrent_rollback_for_the_same_service_is_refused_by_the_lock(pipeline: LocalPipeline) -> None:
    first = pipeline.start(rollback_input(), name="lock-1")
    pipeline.wait_for_state(first, "Request approval")
    second = pipeline.start(rollback_input(), name="lock-2")
    result = pipeline.wait(second)
    assert result["status"] == "FAILED"
    assert result["error"] == "RollbackLocked"
    assert "lock-1" in result["cause"]
    # the refused execution did not release the first one's lock
    assert pipeline.lock_holder() is not None and pipeline.lock_holder().endswith(":lock-1")  # type: ignore[union-attr]
    assert pipeline.describe(first)["status"] == "RUNNING"


def test_the_same_deployments_under_another_service_name_are_refused_by_the_lock(pipeline: LocalPipeline) -> None:
    # Given a rollback of skillancer waiting for approval
    first = pipeline.start(rollback_input(), name="resource-lock-1")
    pipeline.wait_for_state(first, "Request approval")
    # When the same deployments are submitted under another service name
    health = [pipeline.health.url_for("skillancer-web")]
    second = pipeline.start(rollback_input(service="checkout", health_urls=health), name="resource-lock-2")
    result = pipeline.wait(second)
    # Then the lock on the deployments refuses it, naming what is held and by whom
    assert (result["status"], result["error"]) == ("FAILED", "RollbackLocked")
    assert "kubernetes:skillancer-prod/production/deployment/skillancer-web (held by" in result["cause"]
    assert "resource-lock-1" in result["cause"]
    assert pipeline.describe(first)["status"] == "RUNNING"


def test_rollout_failure_fails_notifies_and_releases_the_lock(pipeline: LocalPipeline) -> None:
    # Given the rc.5 image can no longer be pulled
    pipeline.kube.fail_image(RC5.format("skillancer-api"), "ImagePullBackOff")
    execution = pipeline.start(rollback_input(), name="rollout-fails-1")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution, timeout=120)
    assert result["status"] == "FAILED"
    assert result["error"] in {"RolloutFailed", "PodsUnhealthy", "RolloutTimedOut"}
    assert "skillancer-api" in result["cause"]
    assert pipeline.lock_holder() is None
    failures = [e for e in pipeline.notifications.fetch() if "Rollback FAILED" in e.subject]
    assert failures and "skillancer-api" in failures[0].body
    # And the report says what really moved: both deployments were rolled back before the pods failed
    report = pipeline.recorded_report("rollout-fails-1")
    assert report is not None and report["status"] == "FAILED" and report["partial"] is True
    assert sorted((c["target"], c["status"]) for c in report["changes"]) == [
        ("deployment/skillancer-api (namespace production)", "applied"),
        ("deployment/skillancer-web (namespace production)", "applied"),
    ]
    assert {d: image.rsplit(":", 1)[1] for d, image in pipeline.images().items()} == {
        "skillancer-web": "v1.0.0-rc.5",
        "skillancer-api": "v1.0.0-rc.5",
    }
    assert "PARTIAL rollback: changed deployment/skillancer-" in report["post_mortem_markdown"]
    assert "(PARTIAL)" in failures[0].subject


def test_a_scale_while_the_approvers_read_does_not_block_the_approved_rollback(pipeline: LocalPipeline) -> None:
    # Given a rollback of skillancer-web (the API already fixed) waiting for approval, and an autoscaler scaling
    # skillancer-web meanwhile
    pipeline.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5.format("skillancer-api"))
    pipeline.kube.settle()
    health = [pipeline.health.url_for("skillancer-web")]
    execution = pipeline.start(rollback_input(deployments=["skillancer-web"], health_urls=health), name="scaled-1")
    pipeline.wait_for_state(execution, "Request approval")
    pipeline.kube.api.update_deployment(
        NAMESPACE, "skillancer-web", lambda d: {**d, "spec": {**d["spec"], "replicas": 5}}
    )
    pipeline.kube.settle()
    # When it is approved
    approve_on_call_and_lead(pipeline, execution)
    # Then it rolls back: the revision and pod template the approvers saw had not moved
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"
    assert pipeline.images()["skillancer-web"] == RC5.format("skillancer-web")


def test_deployment_changed_after_approval_is_not_overwritten(pipeline: LocalPipeline) -> None:
    execution = pipeline.start(rollback_input(deployments=["skillancer-web"]), name="changed-1")
    pipeline.wait_for_state(execution, "Request approval")
    # Someone deploys a hotfix while the approvers read the email
    pipeline.kube.apply_deployment(NAMESPACE, "skillancer-web", image="registry.example.com/skillancer-web:v1.0.1")
    pipeline.kube.settle()
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    assert result["status"] == "FAILED"
    assert result["error"] == "ConcurrentModification"
    assert pipeline.images()["skillancer-web"].endswith(":v1.0.1")
    # And the report records the refused change as failed, not as made, and the rollback as not partial
    report = pipeline.recorded_report("changed-1")
    assert report is not None and report["partial"] is False
    ((target, status, detail),) = [(c["target"], c["status"], c["detail"]) for c in report["changes"]]
    assert (target, status) == ("deployment/skillancer-web (namespace production)", "failed")
    assert detail.startswith("ConcurrentModification: ")


def test_approval_timeout_ends_in_its_own_state_notifies_and_releases_the_lock(synthesized: Synthesized) -> None:
    # Given the approval step's 900 s heartbeat and 1800 s timeout run 500 times faster
    with LocalPipeline(synthesized, timeout_scale=0.002) as pipeline:
        execution = pipeline.start(rollback_input(), name="timeout-1")
        pipeline.wait_for_state(execution, "Request approval")
        # When nobody decides
        result = pipeline.wait(execution, timeout=30)
        # Then it ends in "Approval timed out", changes nothing and releases the lock
        assert result["status"] == "FAILED"
        assert result["error"] == "ApprovalExpired"
        assert "Approval timed out" in pipeline.states_entered(execution)
        assert pipeline.images() == {d: BROKEN.format(d) for d in ("skillancer-web", "skillancer-api")}
        assert pipeline.lock_holder() is None
        report = pipeline.recorded_report("timeout-1")
        assert report is not None and report["status"] == "TIMED_OUT"
        assert any("Rollback TIMED_OUT" in email.subject for email in pipeline.notifications.fetch())
        # and on the way the next tier was told
        assert "Escalate approval" in pipeline.states_entered(execution)
        assert any(
            e.recipient == "cto@skillancer.com" and "ESCALATION" in e.subject
            for e in pipeline.approval_emails.fetch() + pipeline.approval_emails.received
        )


def test_escalation_tells_the_cto_and_the_original_links_still_approve(synthesized: Synthesized) -> None:
    # Given the escalation point (half the RTO) comes after 0.45 s and the window closes after 18 s
    with LocalPipeline(synthesized, timeout_scale=0.001) as pipeline:
        execution = pipeline.start(rollback_input(), name="escalate-1")
        pipeline.wait_for_state(execution, "Request approval")
        pipeline.approval_requests(count=3)
        approver.decide(pipeline.link_for(ON_CALL), "approve")
        # When nobody else decides before the escalation point
        pipeline.wait_for_state(execution, "Escalate approval")
        emails = pipeline.approval_requests(count=4)
        # Then the CTO is told what is missing (the partial approval did not postpone it)
        (escalation,) = [e for e in emails if e.recipient == "cto@skillancer.com"]
        assert "ESCALATION" in escalation.subject and "Still missing: lead" in escalation.body
        # And the lead's original link still completes the approval
        assert "Approved" in approver.decide(pipeline.link_for(LEAD), "approve").text
        result = pipeline.wait(execution)
        assert result["status"] == "SUCCEEDED", result
        assert pipeline.images() == {d: RC5.format(d) for d in ("skillancer-web", "skillancer-api")}


def test_a_lock_that_cannot_be_released_does_not_turn_a_recovered_service_into_a_failure(
    pipeline: LocalPipeline,
) -> None:
    # Given a rollback waiting for approval, and the lock table unreachable for the release step from now on
    execution = pipeline.start(rollback_input(), name="release-fails-1")
    pipeline.wait_for_state(execution, "Request approval")
    release = pipeline.deployment.function_name("FunctionsReleaseLock")
    environment = pipeline.lambda_.get_function_configuration(FunctionName=release)["Environment"]["Variables"]
    pipeline.lambda_.update_function_configuration(
        FunctionName=release, Environment={"Variables": {**environment, "LOCKS_TABLE_NAME": "no-such-table"}}
    )
    # When it is approved and the service recovers
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it still SUCCEEDED; the release was retried, and the output says the lock was left to its TTL
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["status"] == "SUCCEEDED"
    assert output["lock"]["released"] is False and output["lock"]["expires"] == "at the lock's TTL"
    failures = [e for e in pipeline.aws.execution_events(execution) if e["type"] == "LambdaFunctionFailed"]
    assert len(failures) == 5  # the first try and four retries
    # And exactly one report, the successful one, was recorded and announced
    assert pipeline.recorded_report("release-fails-1")["status"] == "SUCCEEDED"  # type: ignore[index]
    subjects = [email.subject for email in pipeline.notifications.fetch()]
    assert sum("Rollback SUCCEEDED" in s for s in subjects) == 1
    assert not any("Rollback FAILED" in s for s in subjects)
    assert "Record outcome" not in pipeline.states_entered(execution)
