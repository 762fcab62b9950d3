"""Terraform's JSON plan (``terraform show -json <saved plan>``, format_version 1.x), read into what approvers see:
how many resources the plan adds, changes and destroys, and which. A replace (``["delete", "create"]`` or
``["create", "delete"]``) destroys a resource and adds one; ``no-op`` and ``read`` change nothing."""

from __future__ import annotations

import json
from typing import Any

from functions.errors import RollbackError
from functions.models.rollback import StrictModel


class UnreadablePlan(RollbackError):
    """The plan document is not Terraform's JSON plan format (1.x)."""


class PlanSummary(StrictModel):
    terraform_version: str
    adds: list[str]
    changes: list[str]
    destroys: list[str]
    replaces: list[str]

    @property
    def destroys_resources(self) -> bool:
        return bool(self.destroys or self.replaces)

    @property
    def empty(self) -> bool:
        return not (self.adds or self.changes or self.destroys or self.replaces)

    def text(self) -> str:
        counts = (
            f"Plan: {len(self.adds) + len(self.replaces)} to add, {len(self.changes)} to change, "
            f"{len(self.destroys) + len(self.replaces)} to destroy"
        )
        parts = [
            f"{label} {', '.join(addresses)}"
            for label, addresses in (
                ("add:", self.adds),
                ("change:", self.changes),
                ("replace (destroy, then create):", self.replaces),
                ("destroy:", self.destroys),
            )
            if addresses
        ]
        return counts + (f" ({'; '.join(parts)})" if parts else " (no changes)")


def summarize(document: bytes | str | dict[str, Any]) -> PlanSummary:
    plan = json.loads(document) if isinstance(document, bytes | str) else document
    if not isinstance(plan, dict) or not str(plan.get("format_version", "")).startswith("1."):
        raise UnreadablePlan("not a Terraform JSON plan (format_version 1.x expected)")
    adds: list[str] = []
    changes: list[str] = []
    destroys: list[str] = []
    replaces: list[str] = []
    for resource in plan.get("resource_changes") or []:
        address = str(resource.get("address"))
        actions = list((resource.get("change") or {}).get("actions") or [])
        if actions == ["create"]:
            adds.append(address)
        elif actions in (["update"], ["forget"]):  # forget (1.7+): out of the state, not destroyed
            changes.append(address)
        elif actions == ["delete"]:
            destroys.append(address)
        elif sorted(actions) == ["create", "delete"]:
            replaces.append(address)
        elif actions in (["no-op"], ["read"]):
            continue
        else:
            raise UnreadablePlan(f"{address}: unknown actions {actions}")
    return PlanSummary(
        terraform_version=str(plan.get("terraform_version", "unknown")),
        adds=adds,
        changes=changes,
        destroys=destroys,
        replaces=replaces,
    )
