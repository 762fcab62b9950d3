"""The approval email: what will change, and user text that cannot pose as part of the message."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.logic.approvals import email_body, one_line
from functions.settings import Approver

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
