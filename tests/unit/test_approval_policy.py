"""The authority matrix's approval rules: distinct people per role, requester excluded, any rejection vetoes."""

from __future__ import annotations

import pytest

from functions.logic.approval_policy import Decision, eligible_approvers, evaluate, uncovered_roles
from functions.settings import Approver

PEOPLE = [
    Approver(id="ann", name="Ann", email="ann@example.com", roles=["on-call"]),
    Approver(id="bob", name="Bob", email="bob@example.com", roles=["lead"]),
    Approver(id="cat", name="Cat", email="cat@example.com", roles=["cto", "security"]),
    Approver(id="dan", name="Dan", email="dan@example.com", roles=["security"]),
    Approver(id="eve", name="Eve", email="eve@example.com", roles=["on-call", "lead"]),
]


def approve(*ids: str) -> list[Decision]:
    return [Decision(i, "approve") for i in ids]


def test_on_call_plus_lead_needs_two_people_holding_those_roles() -> None:
    assert evaluate(PEOPLE, ["on-call", "lead"], approve("ann")).status == "pending"
    state = evaluate(PEOPLE, ["on-call", "lead"], approve("ann", "bob"))
    assert state.status == "approved"
    assert state.assignment == {"on-call": "ann", "lead": "bob"}


def test_one_person_cannot_fill_two_roles() -> None:
    # Given Eve holds both on-call and lead
    state = evaluate(PEOPLE, ["on-call", "lead"], approve("eve"))
    # Then her single approval fills only one of the two roles
    assert state.status == "pending"
    assert len(state.missing_roles) == 1


def test_cto_plus_security_needs_two_distinct_people() -> None:
    # Cat holds both CTO and Security: alone she is not enough
    assert evaluate(PEOPLE, ["cto", "security"], approve("cat")).status == "pending"
    state = evaluate(PEOPLE, ["cto", "security"], approve("cat", "dan"))
    assert state.status == "approved"
    assert state.assignment == {"cto": "cat", "security": "dan"}


def test_assignment_finds_a_matching_when_the_first_guess_would_block() -> None:
    # Dan can only be security, so Cat must be CTO, whatever order they approved in
    state = evaluate(PEOPLE, ["security", "cto"], approve("cat", "dan"))
    assert state.assignment == {"security": "dan", "cto": "cat"}


def test_approvals_from_people_without_the_role_do_not_count() -> None:
    assert evaluate(PEOPLE, ["cto"], approve("ann", "bob")).status == "pending"


def test_any_rejection_vetoes() -> None:
    decisions = [*approve("ann", "bob"), Decision("dan", "reject")]
    state = evaluate(PEOPLE, ["on-call", "lead"], decisions)
    assert state.status == "rejected"
    assert state.rejected_by == ["dan"]


def test_requester_is_not_eligible_by_id_or_email() -> None:
    assert [a.id for a in eligible_approvers(PEOPLE, ["on-call"], "ANN@example.com")] == ["eve"]
    assert [a.id for a in eligible_approvers(PEOPLE, ["on-call"], "eve")] == ["ann"]


@pytest.mark.parametrize(
    ("roles", "requester", "uncovered"),
    [(["cto"], "cat", ["cto"]), (["cto", "security"], "dan", []), (["billing-lead"], "x", ["billing-lead"])],
)
def test_uncovered_roles(roles: list[str], requester: str, uncovered: list[str]) -> None:
    assert uncovered_roles(PEOPLE, roles, requester) == uncovered
