"""The approval page under attack, over real HTTP: forged, altered, expired, replayed, self-approved, scanned.
Every case must change nothing: the request stays PENDING and the workflow keeps waiting."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import boto3
import pytest

from functions.logic import links
from local import approver
from local.pipeline import LocalPipeline, rollback_input
from local.synth import Synthesized

ON_CALL, SECOND_ON_CALL, LEAD = (
    "oncall-primary@skillancer.com",
    "oncall-secondary@skillancer.com",
    "eng-lead@skillancer.com",
)


@pytest.fixture
def waiting(synthesized: Synthesized) -> Iterator[tuple[LocalPipeline, str]]:
    """A rollback waiting in "Request approval", its three approval emails delivered."""
    with LocalPipeline(synthesized) as pipeline:
        execution = pipeline.start(rollback_input(), name=f"attack-{time.monotonic_ns()}")
        pipeline.wait_for_state(execution, "Request approval")
        pipeline.approval_requests(count=3)
        yield pipeline, execution


def approval_id(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[1]


def record(pipeline: LocalPipeline, link: str) -> dict[str, Any]:
    item = pipeline.dynamodb.get_item(
        TableName=pipeline.deployment.table_name("StateApprovals"), Key={"approval_id": {"S": approval_id(link)}}
    )["Item"]
    return {"status": item["status"]["S"], "decisions": item["decisions"]["M"], "task_token": item["task_token"]["S"]}


def with_query(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def signing_key(pipeline: LocalPipeline) -> bytes:
    secret = pipeline.deployment.find("AWS::SecretsManager::Secret", "ApprovalSigningKey").physical_id
    return str(boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]).encode()


def assert_nothing_decided(pipeline: LocalPipeline, execution: str, link: str) -> None:
    assert record(pipeline, link) | {"task_token": None} == {"status": "PENDING", "decisions": {}, "task_token": None}
    assert pipeline.describe(execution)["status"] == "RUNNING"


def test_forged_or_altered_links_are_refused(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    link = pipeline.link_for(ON_CALL)
    signature = parse_qs(urlsplit(link).query)["s"][0]
    other = pipeline.link_for(LEAD)
    attacks = {
        "forged signature": with_query(link, s=signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        "altered request id": link.replace(approval_id(link), "0" * 32),
        "altered approver": with_query(link, a="eng-lead"),
        "altered expiry": with_query(link, e=str(int(time.time()) + 86400)),
        "another approver's signature": with_query(link, s=parse_qs(urlsplit(other).query)["s"][0]),
    }
    for name, attack in attacks.items():
        # When the altered link is opened and used
        shown, decided = approver.view(attack), approver.decide(attack, "approve")
        # Then it is refused with a clear page, and nothing is decided
        assert shown.status == 403 and "not valid" in shown.text, name
        assert decided.status == 403, name
    assert_nothing_decided(pipeline, execution, link)


def test_expired_link_is_refused(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    link = pipeline.link_for(ON_CALL)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    claims = links.LinkClaims(approval_id(link), query["a"], int(time.time()) - 1, query["n"])
    expired = links.build_url(pipeline.gateway.base_url, signing_key(pipeline), claims)
    page = approver.view(expired)
    assert page.status == 403 and "expired" in page.text
    assert_nothing_decided(pipeline, execution, link)


def test_post_without_the_forms_csrf_token_is_refused(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    link = pipeline.link_for(ON_CALL)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    for csrf in (None, "0" * 64, query["s"]):
        form = {**query, "decision": "approve", **({"csrf": csrf} if csrf else {})}
        request = urllib.request.Request(link.split("?")[0], data=urlencode(form).encode(), method="POST")
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 403, csrf
    assert_nothing_decided(pipeline, execution, link)


def test_opening_the_page_never_decides_and_sends_safe_headers(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    link = pipeline.link_for(ON_CALL)
    # When a mail scanner opens the link five times
    pages = [approver.view(link) for _ in range(5)]
    # Then every page shows what will change, nothing is decided, and the headers keep it private
    for page in pages:
        assert page.status == 200 and "revision 3: v1.0.0" in page.text and "revision 2: v1.0.0-rc.5" in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert_nothing_decided(pipeline, execution, link)


def test_double_click_and_replay_after_the_decision_change_nothing(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    on_call, lead = pipeline.link_for(ON_CALL), pipeline.link_for(LEAD)
    assert "Still waiting for: lead" in approver.decide(on_call, "approve").text
    # A double click by the same person fills no second role
    again = approver.decide(on_call, "approve")
    assert again.status == 403 and "already recorded" in again.text
    assert record(pipeline, on_call)["status"] == "PENDING"
    assert "Approved" in approver.decide(lead, "approve").text
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"
    # After the decision, replays and unused links are refused: the task was answered exactly once
    for link in (on_call, lead, pipeline.link_for(SECOND_ON_CALL)):
        replay = approver.decide(link, "reject")
        assert replay.status in (403, 409)
    assert record(pipeline, on_call)["status"] == "APPROVED"
    answered = [
        e for e in pipeline.aws.execution_events(execution) if e["type"] in ("TaskSucceeded", "TaskFailed")
        and "waitForTaskToken" in json.dumps(e, default=str)
    ]  # fmt: skip
    assert len(answered) == 1


def test_the_requester_gets_no_link_and_a_link_made_for_them_is_refused(synthesized: Synthesized) -> None:
    with LocalPipeline(synthesized) as pipeline:
        # Given the primary on-call requested the rollback
        execution = pipeline.start(rollback_input(requested_by=ON_CALL), name="self-approval")
        pipeline.wait_for_state(execution, "Request approval")
        # Then only the other on-call and the lead are asked
        emails = pipeline.approval_requests(count=2)
        time.sleep(0.3)
        assert sorted(e.recipient or "" for e in pipeline.approval_emails.fetch() + emails) == sorted(
            [SECOND_ON_CALL, LEAD]
        )
        # And a correctly signed link made for the requester is refused
        link = pipeline.link_for(LEAD)
        claims = links.LinkClaims(approval_id(link), "oncall-primary", int(time.time()) + 600, "made-up-nonce")
        own = links.build_url(pipeline.gateway.base_url, signing_key(pipeline), claims)
        assert approver.decide(own, "approve").status == 403
        assert_nothing_decided(pipeline, execution, link)


def test_a_request_only_the_requester_could_approve_is_refused_at_the_first_state(synthesized: Synthesized) -> None:
    with LocalPipeline(synthesized) as pipeline:
        # Given the only lead asks for a rollback that needs a lead
        result = pipeline.wait(pipeline.start(rollback_input(requested_by=LEAD), name="only-requester"))
        assert result["error"] == "InvalidRollbackInput"
        assert "required_roles: no configured approver other than the requester holds lead" in result["cause"]
        assert pipeline.approval_emails.fetch() == []


def test_a_signed_link_for_someone_outside_the_policy_is_refused(waiting: tuple[LocalPipeline, str]) -> None:
    pipeline, execution = waiting
    link = pipeline.link_for(ON_CALL)
    # Given a correctly signed link for the CTO, whose role this request does not need
    claims = links.LinkClaims(approval_id(link), "cto", int(time.time()) + 600, "made-up-nonce")
    cto_link = links.build_url(pipeline.gateway.base_url, signing_key(pipeline), claims)
    assert approver.view(cto_link).status == 403
    assert approver.decide(cto_link, "approve").status == 403
    assert_nothing_decided(pipeline, execution, link)


def test_the_task_token_is_in_no_url_email_or_log(
    waiting: tuple[LocalPipeline, str], capfd: pytest.CaptureFixture[str]
) -> None:
    pipeline, execution = waiting
    token = record(pipeline, pipeline.link_for(ON_CALL))["task_token"]
    approver.decide(pipeline.link_for(ON_CALL), "approve")
    approver.decide(pipeline.link_for(LEAD), "approve")
    assert pipeline.wait(execution)["status"] == "SUCCEEDED"
    output = capfd.readouterr()
    assert len(token) > 20
    assert token not in output.out + output.err
    assert all(token not in f"{r['path']}?{r['query']}" for r in pipeline.gateway.requests)
    assert all(token not in email.body for email in pipeline.approval_emails.received)
