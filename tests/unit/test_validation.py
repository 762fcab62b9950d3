"""Workflow input validation: every mistake is named by its field, defaults are resolved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.errors import InvalidRollbackInput
from functions.logic.validation import validate_kubernetes_app_input
from functions.models.rollback import ApprovalWindow
from functions.settings import Approver

STARTED = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
APPROVERS = [
    Approver(id="ann", name="Ann", email="ann@example.com", roles=["on-call"]),
    Approver(id="bob", name="Bob", email="bob@example.com", roles=["lead"]),
]
WINDOW = ApprovalWindow(timeout_seconds=1800, escalate_after_seconds=450, escalation_roles=["cto"])
HEALTH = {"skillancer": ["https://api.skillancer.com/health"]}


def valid_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": "skillancer",
        "environment": "production",
        "deployments": ["skillancer-web", "skillancer-api"],
        "reason": "Checkout returns 500 since v1.0.0",
        "requested_by": "carol@example.com",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def validate(raw: Any):  # type: ignore[no-untyped-def]
    return validate_kubernetes_app_input(
        raw, execution_arn="arn:x", execution_name="exec-1", started_at=STARTED,
        configured_health_urls=HEALTH, approvers=APPROVERS, approval_window=WINDOW,
    )  # fmt: skip


def test_defaults_are_resolved() -> None:
    request = validate(valid_input())
    assert request.namespace == "production"
    assert request.required_roles == ["on-call", "lead"]
    assert request.health_urls == HEALTH["skillancer"]
    assert request.detected_at == STARTED
    assert request.rollback_id == "exec-1"
    assert request.dry_run is False


def test_alarm_time_starts_the_rto_clock() -> None:
    alarm = {"name": "api-5xx", "state_change_time": "2026-11-28T02:55:00+00:00"}
    assert validate(valid_input(alarm=alarm)).detected_at == datetime(2026, 11, 28, 2, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service": None}, "service: Field required"),
        ({"deployments": []}, "deployments: List should have at least 1 item"),
        ({"deployments": ["Skillancer_Web"]}, "deployments.0: String should match pattern"),
        ({"deployments": ["a", "a"]}, "each deployment may appear only once"),
        ({"to_revision": 0}, "to_revision: Input should be greater than or equal to 1"),
        ({"to_revision": 2, "to_version": "v1"}, "mutually exclusive"),
        ({"severity": "P9"}, "severity: Input should be 'P0', 'P1', 'P2' or 'P3'"),
        ({"dry_run": "perhaps"}, "dry_run: Input should be a valid boolean"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"health_urls": ["not a url"]}, "health_urls.0: Input should be a valid URL"),
        ({"required_roles": ["cto"]}, "required_roles: no configured approver other than the requester holds cto"),
        ({"service": "billing"}, "health_urls: none given and none configured for service 'billing'"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRollbackInput) as error:
        validate(valid_input(**changes))
    assert field in str(error.value)


def test_input_must_be_an_object() -> None:
    with pytest.raises(InvalidRollbackInput, match="input: expected a JSON object"):
        validate(["skillancer"])
