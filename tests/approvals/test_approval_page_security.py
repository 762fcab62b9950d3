"""The approval page attacked over real HTTP, on the whole emulated stack.

Every attack must succeed zero times: the answer is a clear refusal page (4xx, a message, the security
headers), the approval record in DynamoDB is exactly as before, the workflow still waits in "Request approval"
(or, once decided, keeps its outcome), and the refusal is in the audit trail.
"""

from __future__ import annotations

import json
import time

import pytest

from local import approver
from local.pipeline import LocalPipeline, rollback_input
from tests.approvals.support import (
    CTO,
    LEAD,
    ON_CALL,
    SDK_AND_EMULATOR_LOGGERS,
    SECOND_ON_CALL,
    SECURITY,
    Rollback,
    approval_id_of,
    assert_refused,
    assert_security_headers,
    every_log_record,
    form_fields,
    function_environment,
    get,
    invoke_page_function,
    post,
    query,
    send,
    start_rollback,
    with_query,
)

APPROVE = {"decision": "approve"}
REJECT = {"decision": "reject"}


def flip(hex_text: str) -> str:
    """The same text with its last hex digit changed."""
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


def test_forged_altered_and_expired_links_are_refused(waiting: Rollback) -> None:
    # Given the on-call's genuine link, the form its page carries, and the lead's link
    link, lead_link = waiting.link(ON_CALL), waiting.link(LEAD)
    genuine_csrf = form_fields(get(link))["csrf"]
    nonce = waiting.nonce_of("oncall-primary")
    assert nonce is not None and nonce == query(link)["n"]
    expired = waiting.claims("oncall-primary", int(time.time()) - 60, nonce)
    tampered = {
        "forged signature (one hex digit changed)": with_query(link, s=flip(query(link)["s"])),
        "altered request id": link.replace(waiting.approval_id, flip(waiting.approval_id)),
        "altered approver": with_query(link, a="eng-lead"),
        "expiry pushed a day later": with_query(link, e=str(int(query(link)["e"]) + 86400)),
        "another approver's signature": with_query(link, s=query(lead_link)["s"]),
    }
    # (each posted with the genuine page's CSRF token; the expired link's form is signed with the real key)
    attacks = {
        name: (attack, {**query(attack), "csrf": genuine_csrf}, "this link is not valid")
        for name, attack in tampered.items()
    }
    attacks["expired, signed with the real key"] = (
        waiting.signed_link(expired),
        waiting.signed_form(expired),
        "this link has expired",
    )
    before = waiting.item()
    for name, (attack, form, message) in attacks.items():
        refused_before = len(waiting.refusals(approval_id_of(attack)))
        # When the link is opened, and its fields are posted as a decision
        shown, decided = get(attack), post(attack, {**form, **APPROVE})
        # Then both are refused with a clear page, each refusal is audited, and nothing changed
        assert_refused(shown, message)
        assert_refused(decided, message)
        new = waiting.refusals(approval_id_of(attack))[refused_before:]
        assert sorted(e["event"] for e in new) == ["approval decision refused", "approval link refused"], name
        assert all(message in e["detail"]["why"] for e in new), name
        waiting.assert_unchanged(before)


def test_a_signature_or_csrf_token_with_a_non_ascii_character_is_refused_cleanly(waiting: Rollback) -> None:
    # Given the on-call's genuine link and form
    link = waiting.link(ON_CALL)
    form = form_fields(get(link))
    before = waiting.item()
    # When the signature carries a non-ASCII character, or the posted CSRF token does
    shown = get(with_query(link, s="é" + query(link)["s"][1:]))
    decided = post(link, {**form, "csrf": "é" + form["csrf"][1:], **APPROVE})
    # Then both are refused like any other forgery (not a crash), audited, and nothing changed
    waiting.assert_unchanged(before)
    assert_refused(shown, "not valid")
    assert_refused(decided, "not valid")
    assert len(waiting.refusals()) == 2


def test_a_post_without_the_forms_csrf_token_is_refused(waiting: Rollback) -> None:
    # Given the on-call's genuine link and the form on its page, and the lead's form
    link = waiting.link(ON_CALL)
    form, lead_form = form_fields(get(link)), form_fields(get(waiting.link(LEAD)))
    before = waiting.item()
    attempts = {
        "no token": {k: v for k, v in form.items() if k != "csrf"},
        "an empty token": {**form, "csrf": ""},
        "a wrong token": {**form, "csrf": flip(form["csrf"])},
        "the link's signature as token": {**form, "csrf": form["s"]},
        "another approver's token": {**form, "csrf": lead_form["csrf"]},
    }
    for name, fields in attempts.items():
        refused_before = len(waiting.refusals())
        # When the decision is posted with it
        decided = post(link, {**fields, **APPROVE})
        # Then it is refused, audited, and nothing changed
        assert_refused(decided, "the form is not valid")
        assert [e["event"] for e in waiting.refusals()[refused_before:]] == ["approval decision refused"], name
        waiting.assert_unchanged(before)


def test_oversized_comments_forms_and_ids_are_refused_with_a_clear_page(waiting: Rollback) -> None:
    # Given the on-call's genuine link and form
    link = waiting.link(ON_CALL)
    form = form_fields(get(link))
    before = waiting.item()
    # When the decision carries a 450 KB comment, or a 10 KB form, Then it is refused and nothing changed
    assert_refused(post(link, {**form, **APPROVE, "comment": "x" * 450_000}), "Nothing was changed", status=413)
    assert_refused(post(link, {**form, **APPROVE, "comment": "x" * 1001}), "At most 1000 characters", status=400)
    waiting.assert_unchanged(before)
    # When the approval id in the URL is not one the service makes (here 3,000 characters)
    for forged in ("a" * 3000, "0" * 31 + "g", waiting.approval_id.upper()):
        forged_link = link.replace(waiting.approval_id, forged)
        # Then GET and POST answer 404, and the refusal is still audited (under a bounded key)
        assert_refused(get(forged_link), "does not lead to any rollback", status=404)
        assert_refused(post(forged_link, {**form, **APPROVE}), "does not lead to any rollback", status=404)
    assert len(waiting.refusals("malformed-id")) == 6
    waiting.assert_unchanged(before)


MARKUP = "v1.0.0 fails <script>alert(1)</script> <img src=x onerror=alert(2)>"


def test_opening_the_link_never_decides_and_only_get_and_post_reach_the_page(pipeline: LocalPipeline) -> None:
    # Given a rollback waiting for approval, its reason carrying markup
    rollback = start_rollback(pipeline, "scanned", reason=MARKUP)
    link = rollback.link(ON_CALL)
    form = form_fields(get(link))
    before = rollback.item()
    # When a mail scanner opens the link five times, once with a decision and the form's token in the query
    pages = [get(link) for _ in range(4)] + [get(with_query(link, csrf=form["csrf"], **APPROVE))]
    # Then each shows exactly what will change, with the reason as text, and nothing is decided
    for page in pages:
        assert page.status == 200, page.text
        assert "deployment/skillancer-web (namespace production)" in page.text
        assert "v1.0.0-rc.5" in page.text and "revision 3 -> revision 2" in page.text
        assert "<script>" not in page.html and "<img" not in page.html and "&lt;script&gt;" in page.html
        assert_security_headers(page)
    rollback.assert_unchanged(before)
    assert sum(e["event"] == "approval page viewed" for e in rollback.audit()) == 6
    # When the link is sent HEAD, PUT, DELETE, PATCH or OPTIONS
    forwarded = len(pipeline.gateway.requests)
    for method in ("HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"):
        answer = send(method, link, None if method in ("HEAD", "OPTIONS") else {**form, **APPROVE})
        # Then the gateway refuses them and the page function never runs (the API has only GET and POST)
        assert answer.status >= 400, method
    assert len(pipeline.gateway.requests) == forwarded
    # And the page function itself, sent those methods anyway, decides nothing
    for method in ("HEAD", "PUT", "DELETE", "PATCH"):
        result = invoke_page_function(pipeline, method, link, {**form, **APPROVE})
        assert 400 <= result["statusCode"] < 500, (method, result)
    # And a POST without a decision decides nothing
    assert_refused(post(link, form), "Nothing was changed", status=400)
    rollback.assert_unchanged(before)


def test_a_double_click_counts_once_and_the_lead_is_still_needed(waiting: Rollback) -> None:
    # Given the on-call's page
    link = waiting.link(ON_CALL)
    form = form_fields(get(link))
    # When they click Approve twice (the browser posts the same form again), then Reject
    first, second, third = (
        post(link, {**form, **APPROVE}),
        post(link, {**form, **APPROVE}),
        post(link, {**form, **REJECT}),
    )
    # Then only the first counts: the others are refused and audited, and the lead is still needed
    assert first.status == 200 and "Still waiting for: lead." in first.text
    assert_security_headers(first)
    assert_refused(second, "your decision was already recorded")
    assert_refused(third, "your decision was already recorded")
    assert [e["event"] for e in waiting.refusals()] == ["approval decision refused"] * 2
    assert waiting.status() == "PENDING" and waiting.decisions() == ["oncall-primary"]
    assert json.loads(waiting.item()["decisions"]["M"]["oncall-primary"]["S"])["decision"] == "approve"
    # And the second on-call's approval does not stand in for the lead
    other = approver.decide(waiting.link(SECOND_ON_CALL), "approve")
    assert other.status == 200 and "Still waiting for: lead." in other.text
    assert waiting.status() == "PENDING" and waiting.decisions() == ["oncall-primary", "oncall-secondary"]
    assert waiting.is_waiting_for_approval() and waiting.approval_callbacks() == []


def test_after_the_decision_replays_and_unused_links_change_nothing(waiting: Rollback) -> None:
    # Given every approver's page, opened while the request was open
    links = {email: waiting.link(email) for email in (ON_CALL, LEAD, SECOND_ON_CALL)}
    forms = {email: form_fields(get(link)) for email, link in links.items()}
    # And the on-call and the lead approved
    assert "Still waiting for: lead." in post(links[ON_CALL], {**forms[ON_CALL], **APPROVE}).text
    approved = post(links[LEAD], {**forms[LEAD], **APPROVE})
    assert approved.status == 200 and "Approved. The rollback is starting." in approved.text
    assert_security_headers(approved)
    outcome = waiting.pipeline.wait(waiting.execution)
    assert outcome["status"] == "SUCCEEDED", outcome
    decided = waiting.item()
    assert decided["status"]["S"] == "APPROVED"
    # When the same forms are posted again, and the second on-call's unused form is posted
    replays = {
        "on-call again": post(links[ON_CALL], {**forms[ON_CALL], **APPROVE}),
        "lead again, approving": post(links[LEAD], {**forms[LEAD], **APPROVE}),
        "lead again, rejecting": post(links[LEAD], {**forms[LEAD], **REJECT}),
        "unused link, approving": post(links[SECOND_ON_CALL], {**forms[SECOND_ON_CALL], **APPROVE}),
        "unused link, rejecting": post(links[SECOND_ON_CALL], {**forms[SECOND_ON_CALL], **REJECT}),
    }
    # Then each is refused and audited; opening any link only says it was decided
    for replay in replays.values():
        assert_refused(replay, "this rollback was already approved; nothing was changed")
    assert [e["event"] for e in waiting.refusals()] == ["approval decision refused"] * len(replays)
    for link in links.values():
        assert_refused(get(link), "This rollback was APPROVED.", status=409)
    # And the record, the outcome and the single callback (SendTaskSuccess) are unchanged
    assert waiting.item() == decided
    assert waiting.describe()["status"] == "SUCCEEDED" and waiting.describe()["output"] == outcome["output"]
    assert waiting.approval_callbacks() == ["TaskSucceeded"]
    history = [e["type"] for e in waiting.pipeline.aws.execution_events(waiting.execution)]
    assert history.count("ExecutionSucceeded") == 1
    approvals = json.loads(outcome["output"])["approvals"]
    assert sorted((a["approver_id"], a["role"]) for a in approvals) == [
        ("eng-lead", "lead"),
        ("oncall-primary", "on-call"),
    ]


def test_the_requester_gets_no_link_and_cannot_approve_with_one_they_make(pipeline: LocalPipeline) -> None:
    # Given the only lead requests a rollback that needs a lead
    alone = pipeline.wait(pipeline.start(rollback_input(requested_by=LEAD), name="only-the-lead"))
    # Then it is refused at the first state, before any email or change
    assert (alone["status"], alone["error"]) == ("FAILED", "InvalidRollbackInput")
    assert "no configured approver other than the requester holds lead" in alone["cause"]
    assert "Request approval" not in pipeline.states_entered(alone["executionArn"])
    assert pipeline.approval_emails.fetch() == []
    # Given the primary on-call requests one (their address spelled in another case)
    rollback = start_rollback(pipeline, "on-call-requests", emails=2, requested_by="OnCall-Primary@Skillancer.com")
    # Then only the other on-call and the lead are asked; the requester has no link and no nonce
    (requested,) = [e for e in rollback.audit() if e["event"] == "approval requested"]
    assert requested["detail"]["notified"] == ["oncall-secondary", "eng-lead"]
    pipeline.approval_emails.fetch()  # every email was sent before that audit event: none is missing here
    assert sorted(e.recipient or "" for e in pipeline.approval_emails.received) == [LEAD, SECOND_ON_CALL]
    assert rollback.nonce_of("oncall-primary") is None
    # When they sign a link for themselves with the real key and a nonce of their own, Then it is refused, and
    # even with their nonce in the record their decision is refused: the requester never counts
    assert_self_signed_link_refused(
        rollback, "oncall-primary", "a-nonce-of-my-own", "you requested this rollback, so you cannot approve it"
    )


def test_cto_and_security_must_both_approve(pipeline: LocalPipeline) -> None:
    # Given a rollback that needs the CTO and Security (no configured person holds both roles; one person
    # filling two roles is covered in tests/unit/test_approval_policy.py)
    rollback = start_rollback(pipeline, "cto-and-security", emails=2, required_roles=["cto", "security"])
    assert sorted(e.recipient or "" for e in pipeline.approval_emails.received) == [CTO, SECURITY]
    # When the CTO approves
    cto = approver.decide(rollback.link(CTO), "approve")
    # Then it still waits for Security
    assert cto.status == 200 and "Still waiting for: security." in cto.text
    assert rollback.status() == "PENDING" and rollback.is_waiting_for_approval()
    # When Security approves too
    security = approver.decide(rollback.link(SECURITY), "approve")
    # Then it is approved and the rollback runs, recording who approved in which role
    assert security.status == 200 and "Approved." in security.text
    outcome = rollback.pipeline.wait(rollback.execution)
    assert outcome["status"] == "SUCCEEDED", outcome
    approvals = json.loads(outcome["output"])["approvals"]
    assert sorted((a["approver_id"], a["role"]) for a in approvals) == [("cto", "cto"), ("security", "security")]
    assert rollback.approval_callbacks() == ["TaskSucceeded"]


def test_a_validly_signed_link_for_a_role_outside_the_policy_is_refused(waiting: Rollback) -> None:
    # Given the request needs on-call + lead, so the CTO got no link and has no nonce in the record
    assert waiting.nonce_of("cto") is None
    # When a link for the CTO is signed with the real key and an invented nonce, Then it is refused as an invalid
    # link, and even with that nonce in the record the CTO's decision is refused: their role is not required
    assert_self_signed_link_refused(
        waiting, "cto", "an-invented-nonce", "none of your roles is required for this rollback"
    )


def assert_self_signed_link_refused(rollback: Rollback, approver_id: str, nonce: str, decision_refusal: str) -> None:
    """A link signed with the real key for someone who got none: refused (audited, nothing changes) as an
    invalid link; with their nonce planted in the record, the decision itself is refused with ``decision_refusal``."""
    before = rollback.item()
    claims = rollback.claims(approver_id, int(time.time()) + 600, nonce)
    link = rollback.signed_link(claims)
    assert_refused(get(link), "this link is not valid")
    assert_refused(post(link, rollback.signed_form(claims)), "this link is not valid")
    assert len(rollback.refusals()) == 2
    rollback.assert_unchanged(before)
    rollback.inject_nonce(approver_id, claims.nonce)
    assert_refused(post(link, rollback.signed_form(claims)), decision_refusal)
    assert rollback.status() == "PENDING" and rollback.decisions() == []
    assert rollback.is_waiting_for_approval()


def test_the_task_token_is_in_no_url_email_page_record_or_log(
    pipeline: LocalPipeline, capfd: pytest.CaptureFixture[str]
) -> None:
    with every_log_record(pipeline) as records:
        # Given a rollback waiting for approval
        rollback = start_rollback(pipeline, "token")
        token = rollback.task_token()
        # When the on-call and the lead open their links and approve, as phone browsers
        pages = [approver.view(rollback.link(ON_CALL)), approver.decide(rollback.link(ON_CALL), "approve")]
        pages += [approver.view(rollback.link(LEAD)), approver.decide(rollback.link(LEAD), "approve")]
        outcome = pipeline.wait(rollback.execution)
    output = capfd.readouterr()
    assert outcome["status"] == "SUCCEEDED", outcome
    # Then the token (kept only in the approvals table) appears nowhere the approvers or the logs can see
    assert len(token) >= 32
    product_logs = [line for line in records if not line.logger.startswith(SDK_AND_EMULATOR_LOGGERS)]
    assert any("approval requested" in line.text for line in product_logs), "the functions' logs were captured"
    audit = pipeline.dynamodb.scan(TableName=pipeline.deployment.table_name("StateAudit"))["Items"]
    places = {
        "stdout and stderr (the functions' JSON logs)": output.out + output.err,
        "log records": "\n".join(f"{line.logger}: {line.text}" for line in product_logs),
        "requested URLs": "\n".join(f"{r['method']} {r['path']}?{r['query']}" for r in pipeline.gateway.requests),
        "approval emails": "\n".join(e.subject + e.body for e in pipeline.approval_emails.received),
        "other notifications": "\n".join(e.subject + e.body for e in pipeline.notifications.fetch()),
        "approval pages": "\n".join(page.html for page in pages),
        "audit trail": json.dumps(audit),
        "report": outcome["output"],
        "war room": json.dumps(pipeline.slack.messages),
        "page function environment": json.dumps(function_environment(pipeline)),
    }
    for where, text in places.items():
        assert token not in text, where
    assert len(pipeline.gateway.requests) == 6 and rollback.approval_callbacks() == ["TaskSucceeded"]
