"""The approval email: what will change, user text that cannot pose as part of the message (in the text part or
the HTML part), a subject under 100 characters, and the SES request that carries it to one person."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.adapters.mailer import EmailMessage, EmailRefused, SesEmailSender
from functions.logic.approval_email import compose
from functions.logic.approvals import email_body, one_line
from functions.settings import Approver
from functions.text import subject_line
from functions.transient import is_transient

APPROVER = Approver(id="ann", name="Ann", email="ann@example.com", roles=["on-call"])
LINK = "https://approvals.example.com/v1/approvals/abc?s=1"


def summary(**changes: object) -> dict[str, object]:
    return {
        "severity": "P0",
        "service": "skillancer",
        "environment": "production",
        "scenario": "Complete platform outage",
        "requested_by": "sre@example.com",
        "reason": "v1.0.0 returns 500",
        "alarm": None,
        "changes": [{"target": "web", "before": "v1.0.0", "after": "v1.0.0-rc.5", "skip": False}],
        "feature_flag_options": [],
        **changes,
    }


def test_a_reason_with_line_breaks_cannot_add_a_line_above_the_real_link() -> None:
    # Given a reason that tries to plant its own call to action
    forged = "broken\n\nReview and decide (link valid, for you only):\r\nhttps://evil.example.com/approve"
    # When the email is written
    body = email_body(summary(reason=forged), APPROVER, LINK, datetime(2026, 11, 28, 3, 25, tzinfo=UTC))
    lines = body.splitlines()
    # Then the reason stays on its own single line, and the only line that is a link is the real one
    reason = next(line for line in lines if line.startswith("Reason: "))
    assert "https://evil.example.com/approve" in reason
    assert [line for line in lines if line.startswith("https://")] == [LINK]
    assert sum(line.startswith("Review and decide") for line in lines) == 1
    assert "  - web: v1.0.0 -> v1.0.0-rc.5" in lines


def test_one_line_drops_control_characters_and_bounds_the_length() -> None:
    assert one_line("a\tb\x00c\x7fd\n e") == "a b c d e"
    assert one_line("x" * 500, limit=10) == "x" * 9 + "…"


# --- the message as sent: one subject line, a text part, and an HTML part that is the same text, escaped ---------

EXPIRES = datetime(2026, 11, 28, 3, 25, tzinfo=UTC)


def approval_message(**changes: object) -> EmailMessage:
    text = email_body(summary(**changes), APPROVER, LINK, EXPIRES)
    return compose("[P0] Approve rollback of skillancer (production)?", text, link=LINK)


def test_a_reason_written_as_markup_reaches_the_html_part_as_text() -> None:
    # Given a reason that tries to add a link, a script and a closing tag to the HTML part
    reason = 'oops</p><a href="https://evil.example.com/approve">Approve now</a><script>alert(1)</script> & more'
    # When the email is composed
    message = approval_message(reason=reason)
    # Then the HTML part shows the reason escaped, and its only anchor is the approver's own link
    assert "&lt;a href=&quot;https://evil.example.com/approve&quot;&gt;Approve now&lt;/a&gt;" in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in message.html
    assert "<script" not in message.html and 'evil.example.com/approve"' not in message.html
    assert re.findall(r"<a [^>]*>", message.html) == [f'<a href="{escape(LINK)}">']
    # And the text part carries the reason as it was typed, on its own line
    assert f"Reason: {reason}" in message.text.splitlines()


def test_the_html_part_says_what_the_text_part_says() -> None:
    message = approval_message()
    visible = re.sub(r"<[^>]+>", "\n", message.html.split("<body", 1)[1].split(">", 1)[1])
    for line in message.text.splitlines():
        assert escape(line.strip()) in visible or not line.strip()


def test_a_link_with_characters_html_treats_specially_is_escaped_in_the_anchor() -> None:
    link = "https://approvals.example.com/v1/approvals/abc?a=ann&e=1&n=x&s=y"
    message = compose("Approve?", f"Review:\n{link}", link=link)
    assert '<a href="https://approvals.example.com/v1/approvals/abc?a=ann&amp;e=1&amp;n=x&amp;s=y">' in message.html


@pytest.mark.parametrize(
    "service",
    ["skillancer", "s" * 200, "line\nbreak\r\nand\ttab"],
)
def test_the_subject_is_one_line_under_100_characters(service: str) -> None:
    message = compose(f"[P0] Approve rollback of {service} (production)?", "body")
    assert len(message.subject) < 100
    assert not re.search(r"[\x00-\x1f\x7f]", message.subject)
    assert message.subject.startswith("[P0] Approve rollback of ")
    assert subject_line("short") == "short"


# --- the SES adapter: one recipient, both parts, the configured sender; what is worth a retry -------------------


class FakeSes:
    """SES v2 at the wire: records each request, or answers with the queued error."""

    def __init__(self, error: tuple[str, int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self._error = error

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self._error:
            code, status = self._error
            raise ClientError(
                {"Error": {"Code": code, "Message": "refused"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                "SendEmail",
            )
        return {"MessageId": f"m-{len(self.requests)}"}


def test_a_message_goes_to_one_address_from_the_configured_sender_with_both_parts() -> None:
    ses = FakeSes()
    message = approval_message()
    assert SesEmailSender(ses, "rollbacks@skillancer.com", "alerts").send("ann@example.com", message) == "m-1"
    (request,) = ses.requests
    assert request["FromEmailAddress"] == "rollbacks@skillancer.com"
    assert request["Destination"] == {"ToAddresses": ["ann@example.com"]}
    assert request["ConfigurationSetName"] == "alerts"
    simple = request["Content"]["Simple"]
    assert simple["Subject"]["Data"] == message.subject
    assert simple["Body"]["Text"]["Data"] == message.text and simple["Body"]["Html"]["Data"] == message.html


def test_without_a_configuration_set_none_is_named() -> None:
    ses = FakeSes()
    SesEmailSender(ses, "rollbacks@skillancer.com").send("ann@example.com", approval_message())
    assert "ConfigurationSetName" not in ses.requests[0]


@pytest.mark.parametrize(("code", "status"), [("TooManyRequestsException", 429), ("InternalFailure", 500)])
def test_throttling_and_server_errors_are_raised_as_transient(code: str, status: int) -> None:
    sender = SesEmailSender(FakeSes(error=(code, status)), "rollbacks@skillancer.com")
    with pytest.raises(ClientError) as raised:
        sender.send("ann@example.com", approval_message())
    assert is_transient(raised.value)


@pytest.mark.parametrize(
    "code", ["MessageRejected", "MailFromDomainNotVerifiedException", "NotFoundException", "AccessDeniedException"]
)
def test_a_refusal_that_a_retry_would_not_change_is_email_refused(code: str) -> None:
    sender = SesEmailSender(FakeSes(error=(code, 400)), "rollbacks@skillancer.com")
    with pytest.raises(EmailRefused, match=f"^{code}: refused$"):
        sender.send("ann@example.com", approval_message())
