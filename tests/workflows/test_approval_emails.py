"""Approval emails reach the right person and stay reachable: one SES message per approver, addressed to that
approver alone, with their own link in a text and an HTML part, and nothing that unsubscribes them. A retried
request step sends only what was not sent; SES refusing for good fails the rollback only when nobody left could
approve it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from functions.adapters.audit import AuditLog
from local import approver
from local.aws.ses import sent_emails
from local.pipeline import LocalPipeline, rollback_input
from local.synth import base_context

SENDER = "rollbacks@skillancer.com"
ON_CALL, SECOND_ON_CALL, LEAD = (
    "oncall-primary@skillancer.com",
    "oncall-secondary@skillancer.com",
    "eng-lead@skillancer.com",
)
APPROVER_IDS = {ON_CALL: "oncall-primary", SECOND_ON_CALL: "oncall-secondary", LEAD: "eng-lead"}
THROTTLED = ("TooManyRequestsException", "Maximum sending rate exceeded.")


def approver_of(link: str) -> str:
    return dict(parse_qsl(urlsplit(link).query))["a"]


def failed_request_attempts(pipeline: LocalPipeline, execution: str) -> list[str]:
    """The error of each failed attempt of the approval request (a ``.waitForTaskToken`` task), in order."""
    return [
        e["taskFailedEventDetails"]["error"]
        for e in pipeline.aws.execution_events(execution)
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resource") == "invoke.waitForTaskToken"
    ]


def audit_events(pipeline: LocalPipeline, execution: str, event: str) -> list[dict[str, Any]]:
    log = AuditLog(pipeline.dynamodb, pipeline.deployment.table_name("StateAudit"))
    return [e for e in log.events(execution.rsplit(":", 1)[1]) if e["event"] == event]


def approve_and_finish(pipeline: LocalPipeline, execution: str) -> dict[str, Any]:
    assert approver.decide(pipeline.link_for(ON_CALL), "approve").status == 200
    assert approver.decide(pipeline.link_for(LEAD), "approve").status == 200
    return pipeline.wait(execution, timeout=120)


def test_each_approver_gets_one_ses_message_of_their_own_and_no_unsubscribe_link(pipeline: LocalPipeline) -> None:
    # Given a rollback that needs an on-call and a lead (two on-calls and one lead are eligible)
    execution = pipeline.start(rollback_input(reason="5xx <b>everywhere</b> & checkout down"), name="ses-mail")
    # When it asks for approval
    pipeline.wait_for_state(execution, "Request approval")
    emails = pipeline.approval_requests(count=3)
    # Then SES sent exactly one message to each eligible approver, each addressed to them alone, from the sender
    assert sorted(e.to for e in emails) == [(LEAD,), (ON_CALL,), (SECOND_ON_CALL,)]
    assert {e.sender for e in sent_emails()} == {SENDER}
    for email in emails:
        # with their own link only, the same in both parts, an anchor in the HTML part
        (link,) = email.links
        assert approver_of(link) == APPROVER_IDS[email.recipient or ""]
        assert email.html is not None and re.findall(r'<a href="([^"]+)"', email.html) == [link.replace("&", "&amp;")]
        assert "5xx &lt;b&gt;everywhere&lt;/b&gt; &amp; checkout down" in email.html
        assert "Reason: 5xx <b>everywhere</b> & checkout down" in email.body
        # a subject under 100 characters, and nothing that could unsubscribe them
        assert 0 < len(email.subject) < 100 and email.subject.startswith("[P0] Approve rollback of skillancer")
        assert "unsubscribe" not in (email.subject + email.body + email.html).lower()
    # And no approver is subscribed to anything on SNS (it only broadcasts, to the war room)
    approvers = {a["email"] for a in base_context()["rollback"]["approvers"]}
    subscribed = {r.properties["Endpoint"] for r in pipeline.deployment.resources.values()
                  if r.type == "AWS::SNS::Subscription"}  # fmt: skip
    assert subscribed and not subscribed & approvers
    # And the links decide the rollback
    assert approve_and_finish(pipeline, execution)["status"] == "SUCCEEDED"
    assert len(sent_emails()) == 3


def test_throttled_sending_is_retried_and_nobody_gets_a_second_message(pipeline: LocalPipeline) -> None:
    # Given SES throttles the lead's message on both attempts of the first request step (after the on-calls' went)
    pipeline.ses_faults.fail_next(*THROTTLED, times=2, recipient=LEAD)
    # When a rollback asks for approval
    execution = pipeline.start(rollback_input(), name="ses-throttled")
    pipeline.wait_for_state(execution, "Request approval")
    emails = pipeline.approval_requests(count=3)
    # Then the step failed as transient and was retried, and the retry sent only the lead's message
    assert pipeline.ses_faults.refused == [("TooManyRequestsException", [LEAD])] * 2
    assert failed_request_attempts(pipeline, execution) == ["TransientError"]
    assert sorted(e.recipient or "" for e in emails) == [LEAD, ON_CALL, SECOND_ON_CALL]
    # And the links of both attempts decide the one rollback
    assert approve_and_finish(pipeline, execution)["status"] == "SUCCEEDED"
    assert len(pipeline.approval_emails.fetch()) == 0 and len(sent_emails()) == 3
    (requested,) = audit_events(pipeline, execution, "approval requested")
    assert requested["detail"]["notified"] == ["oncall-primary", "oncall-secondary", "eng-lead"]


def test_an_approver_ses_refuses_is_recorded_and_the_others_can_still_approve(pipeline: LocalPipeline) -> None:
    # Given SES refuses the second on-call's address for good
    pipeline.ses_faults.fail_next("MessageRejected", "Email address is not verified.", recipient=SECOND_ON_CALL)
    # When a rollback asks for approval
    execution = pipeline.start(rollback_input(), name="ses-one-refused")
    pipeline.wait_for_state(execution, "Request approval")
    emails = pipeline.approval_requests(count=2)
    # Then the others got theirs, the step did not fail, and the audit trail says who was not reached and why
    assert sorted(e.recipient or "" for e in emails) == [LEAD, ON_CALL]
    assert failed_request_attempts(pipeline, execution) == []
    (requested,) = audit_events(pipeline, execution, "approval requested")
    assert requested["detail"]["notified"] == ["oncall-primary", "eng-lead"]
    assert requested["detail"]["undelivered"] == {"oncall-secondary": "MessageRejected: Email address is not verified."}
    # And the reached approvers decide it
    assert approve_and_finish(pipeline, execution)["status"] == "SUCCEEDED"


def test_when_nobody_left_could_approve_the_rollback_fails_at_once_saying_why(pipeline: LocalPipeline) -> None:
    # Given SES refuses the only lead's address for good
    pipeline.ses_faults.fail_next("MessageRejected", "Email address is not verified.", recipient=LEAD)
    # When a rollback that needs a lead asks for approval
    result = pipeline.wait(pipeline.start(rollback_input(), name="ses-lead-refused"), timeout=60)
    # Then it fails at once (not after the approval window) with the reason, nothing changed, the lock released
    assert (result["status"], result["error"]) == ("FAILED", "ApprovalUndeliverable")
    assert "eng-lead (MessageRejected: Email address is not verified.)" in str(result["cause"])
    assert "Roll back" not in pipeline.states_entered(str(result["executionArn"]))
    assert pipeline.lock_holder() is None
    report = pipeline.recorded_report("ses-lead-refused")
    assert report is not None and report["status"] == "FAILED"
    # And the war room hears it, through the broadcast topic
    assert any("FAILED" in e.subject for e in pipeline.notifications.fetch())
    # And the links that did go out say so, and decide nothing
    assert sorted(e.recipient or "" for e in pipeline.approval_emails.fetch()) == [ON_CALL, SECOND_ON_CALL]
    page = approver.view(pipeline.link_for(ON_CALL))
    assert page.status == 409 and "already ended" in page.text
