"""Announcement adapters against local fakes that check requests the way Slack and Statuspage do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.adapters.announcers import AnnouncementFailed, SlackWebhook, Statuspage
from local.fakes.slack import FakeSlackWebhook
from local.fakes.statuspage import FakeStatuspage


@pytest.fixture
def slack() -> Iterator[FakeSlackWebhook]:
    with FakeSlackWebhook() as fake:
        yield fake


@pytest.fixture
def statuspage() -> Iterator[FakeStatuspage]:
    with FakeStatuspage() as fake:
        yield fake


def test_slack_message_is_posted_as_json_text(slack: FakeSlackWebhook) -> None:
    SlackWebhook(slack.url).post("ROLLBACK INITIATED")
    assert slack.messages == [{"text": "ROLLBACK INITIATED"}]


def test_slack_refusals_are_reported_with_slacks_reason(slack: FakeSlackWebhook) -> None:
    with pytest.raises(AnnouncementFailed, match="slack: HTTP 403 invalid_token"):
        SlackWebhook(slack.url.rsplit("/", 1)[0] + "/wrong").post("x")
    with pytest.raises(AnnouncementFailed, match="slack: HTTP 400 no_text"):
        SlackWebhook(slack.url).post("")
    with pytest.raises(AnnouncementFailed, match="slack: unreachable"):
        SlackWebhook("http://127.0.0.1:9/hook", timeout=0.5).post("x")


def test_statuspage_incident_is_opened_investigating(statuspage: FakeStatuspage) -> None:
    incident_id = Statuspage(statuspage.api_base, statuspage.page_id, statuspage.api_key).open_incident(
        "skillancer: Investigating issues", "Investigating issues, remediation in progress", "critical"
    )
    incident = statuspage.incidents[incident_id]
    assert (incident["name"], incident["status"], incident["impact_override"]) == (
        "skillancer: Investigating issues",
        "investigating",
        "critical",
    )


@pytest.mark.parametrize(
    ("page", "key", "impact", "expected"),
    [
        ("skillancerpage", "wrong-key", "critical", "HTTP 401"),
        ("otherpage", None, "critical", "HTTP 404"),
        ("skillancerpage", None, "catastrophic", "HTTP 422"),
    ],
)
def test_statuspage_refusals_name_the_problem(
    statuspage: FakeStatuspage, page: str, key: str | None, impact: str, expected: str
) -> None:
    client = Statuspage(statuspage.api_base, page, key or statuspage.api_key)
    with pytest.raises(AnnouncementFailed, match=f"statuspage: {expected}"):
        client.open_incident("name", "body", impact)
    assert statuspage.incidents == {}
