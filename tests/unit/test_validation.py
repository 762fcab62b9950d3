"""Workflow input validation: every mistake is named by its field, defaults are resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.errors import InvalidRollbackInput
from functions.logic.validation import validate_input
from functions.models.rollback import ApprovalWindow
from functions.rollbacks.registry import rollback_type
from functions.settings import Approver

STARTED = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
APPROVERS = [
    Approver(id="ann", name="Ann", email="ann@example.com", roles=["on-call"]),
    Approver(id="bob", name="Bob", email="bob@example.com", roles=["lead"]),
]
WINDOW = ApprovalWindow(timeout_seconds=1800, escalate_after_seconds=450, escalation_roles=["cto"])
HEALTH = {"skillancer": ["https://api.skillancer.com/health"]}


def valid_input(target: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": "skillancer",
        "environment": "production",
        "target": {"deployments": ["skillancer-web", "skillancer-api"]},
        "reason": "Checkout returns 500 since v1.0.0",
        "requested_by": "carol@example.com",
    }
    data["target"].update(target or {})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def validate(raw: Any):  # type: ignore[no-untyped-def]
    return validate_input(
        raw, rollback_type=rollback_type("kubernetes_app"), execution_arn="arn:x", execution_name="exec-1",
        started_at=STARTED, configured_health_urls=HEALTH, approvers=APPROVERS, approval_window=WINDOW,
    )  # fmt: skip


def test_defaults_are_resolved() -> None:
    request = validate(valid_input())
    assert request.rollback_type == "kubernetes_app"
    assert request.target == {"deployments": ["skillancer-web", "skillancer-api"]}
    assert request.required_roles == ["on-call", "lead"]
    assert request.health_urls == HEALTH["skillancer"]
    assert request.detected_at == STARTED
    assert request.rollback_id == "exec-1"
    assert request.dry_run is False


def test_alarm_time_starts_the_rto_clock() -> None:
    alarm = {"name": "api-5xx", "state_change_time": "2026-11-28T02:55:00+00:00"}
    assert validate(valid_input(alarm=alarm)).detected_at == datetime(2026, 11, 28, 2, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes_before", "escalate_after"),
    [(0, 450), (6, 90), (7.5, 1), (12, 1)],
    ids=["just detected", "6 of the 7.5 minutes spent", "all spent", "more than all spent"],
)
def test_the_escalation_point_counts_from_the_incident(minutes_before: float, escalate_after: int) -> None:
    # Given an incident detected some minutes before the rollback started (450 s: half the 15-minute RTO)
    detected = (STARTED - timedelta(minutes=minutes_before)).isoformat()
    window = validate(valid_input(detected_at=detected)).approval_window
    # Then the time already spent comes off the wait, and a spent budget escalates at once; the window stays
    assert (window.escalate_after_seconds, window.timeout_seconds) == (escalate_after, 1800)
    assert window.after_escalation_seconds == 1800 - escalate_after


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service": None}, "service: Field required"),
        ({"target": {"deployments": []}}, "target.deployments: List should have at least 1 item"),
        ({"target": {"deployments": ["Skillancer_Web"]}}, "target.deployments.0: String should match pattern"),
        ({"target": {"deployments": ["a", "a"]}}, "each deployment may appear only once"),
        ({"target": {"to_revision": 0}}, "target.to_revision: Input should be greater than or equal to 1"),
        ({"target": {"to_revision": 2, "to_version": "v1"}}, "mutually exclusive"),
        ({"target": {"replicas": 3}}, "target.replicas: Extra inputs are not permitted"),
        ({"target": None}, "target: Field required"),
        ({"rollback_type": "edge"}, "rollback_type: this workflow rolls back kubernetes_app, not 'edge'"),
        ({"severity": "P9"}, "severity: Input should be 'P0', 'P1', 'P2' or 'P3'"),
        ({"dry_run": "perhaps"}, "dry_run: Input should be a valid boolean"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"health_urls": ["not a url"]}, "health_urls.0: Input should be a valid URL"),
        ({"required_roles": ["cto"]}, "required_roles: no configured approver other than the requester holds cto"),
        ({"service": "billing"}, "health_urls: none given and none configured for service 'billing'"),
        # strict types: what the published JSON Schema refuses, the workflow refuses
        ({"target": {"to_revision": True}}, "target.to_revision: Input should be a valid integer"),
        ({"target": {"to_revision": "1"}}, "target.to_revision: Input should be a valid integer"),
        ({"dry_run": "no"}, "dry_run: Input should be a valid boolean"),
        ({"dry_run": 1}, "dry_run: Input should be a valid boolean"),
        ({"detected_at": 1764298800}, "detected_at: Input should be a valid datetime"),
        ({"detected_at": "2026-11-28T02:55:00"}, "detected_at: Input should have timezone info"),
        ({"detected_at": "2026-11-28T04:00:00+00:00"}, "detected_at: 2026-11-28T04:00:00+00:00 is in the future"),
        # bounded, single-line text
        ({"requested_by": "x" * 300}, "requested_by: String should have at most 256 characters"),
        ({"scenario": "outage\nReview and decide: https://evil"}, "scenario: String should match pattern"),
        ({"reason": "x" * 2001}, "reason: String should have at most 2000 characters"),
        ({"alarm": {"name": "a", "state_change_time": "2026-11-28T02:55:00Z", "account": "1"}}, "alarm.account"),
        ({"feature_flags": [f"flag-{i}" for i in range(21)]}, "feature_flags: List should have at most 20 items"),
        # health endpoints: only https on the configured hosts
        ({"health_urls": ["http://169.254.169.254/latest/meta-data/"]}, "refused: http://169.254.169.254/latest"),
        ({"health_urls": ["http://api.skillancer.com/health"]}, "refused: http://api.skillancer.com/health"),
        ({"health_urls": ["https://evil.example.com/health"]}, "refused: https://evil.example.com/health"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    # Given a valid input with one mistake (target fields are changed inside the target; None removes a key)
    raw = valid_input()
    for key, value in changes.items():
        if value is None:
            raw.pop(key)
        elif key == "target":
            raw["target"].update(value)
        else:
            raw[key] = value
    # When it is validated, Then the error names the field
    with pytest.raises(InvalidRollbackInput) as error:
        validate(raw)
    assert field in str(error.value)


def test_input_must_be_an_object() -> None:
    with pytest.raises(InvalidRollbackInput, match="input: expected a JSON object"):
        validate(["skillancer"])


def test_health_urls_on_a_configured_host_are_accepted() -> None:
    request = validate(valid_input(health_urls=["https://api.skillancer.com/ready"]))
    assert request.health_urls == ["https://api.skillancer.com/ready"]


def test_an_oversized_input_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(InvalidRollbackInput, match=r"input: \d+ bytes; at most 65536"):
        validate(valid_input(padding="x" * 70_000))
