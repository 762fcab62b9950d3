"""Who may approve, and when a rollback counts as approved.

A request names the roles that must approve (from the decision matrix, e.g. ``["cto", "security"]``). It is
approved when every required role is filled by a different person who holds that role, the requester never
counts, and nobody has rejected it. Any rejection vetoes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from functions.settings import Approver


@dataclass(frozen=True)
class Decision:
    approver_id: str
    decision: Literal["approve", "reject"]


@dataclass(frozen=True)
class QuorumState:
    status: Literal["pending", "approved", "rejected"]
    assignment: dict[str, str]  # role -> approver id (complete only when approved)
    missing_roles: list[str]
    rejected_by: list[str]


def eligible_approvers(approvers: Sequence[Approver], required_roles: Sequence[str], requester: str) -> list[Approver]:
    """Approvers who hold at least one required role and are not the requester."""
    return [
        approver
        for approver in approvers
        if set(approver.roles) & set(required_roles) and not is_requester(approver, requester)
    ]


def uncovered_roles(approvers: Sequence[Approver], required_roles: Sequence[str], requester: str) -> list[str]:
    """Required roles that no approver other than the requester holds: such a request could never be approved."""
    eligible = eligible_approvers(approvers, required_roles, requester)
    return [role for role in required_roles if not any(role in approver.roles for approver in eligible)]


def is_requester(approver: Approver, requester: str) -> bool:
    requester = requester.strip().lower()
    return requester in {approver.id.lower(), approver.email.lower()}


def evaluate(
    approvers: Sequence[Approver], required_roles: Sequence[str], decisions: Sequence[Decision]
) -> QuorumState:
    rejected_by = [d.approver_id for d in decisions if d.decision == "reject"]
    if rejected_by:
        return QuorumState("rejected", {}, list(required_roles), rejected_by)
    by_id = {a.id: a for a in approvers}
    approving = [by_id[d.approver_id] for d in decisions if d.decision == "approve" and d.approver_id in by_id]
    assignment = _best_assignment(list(required_roles), approving)
    missing = [role for role in required_roles if role not in assignment]
    return QuorumState("pending" if missing else "approved", assignment, missing, [])


def _best_assignment(roles: list[str], people: list[Approver]) -> dict[str, str]:
    """A maximum role -> person matching where each person fills at most one role they hold (augmenting
    paths), so the roles reported missing are exactly those no remaining approval can fill."""
    holder: dict[str, Approver] = {}

    def assign(person: Approver, tried: set[str]) -> bool:
        for role in roles:
            if role in person.roles and role not in tried:
                tried.add(role)
                if role not in holder or assign(holder[role], tried):
                    holder[role] = person
                    return True
        return False

    for person in people:
        assign(person, set())
    return {role: holder[role].id for role in roles if role in holder}
