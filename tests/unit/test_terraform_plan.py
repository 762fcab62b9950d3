"""The Terraform JSON plan (``terraform show -json``, format_version 1.x) read into the summary approvers see: adds,
changes, destroys and replaces by address; no-op and read change nothing; anything else is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.rollbacks.infrastructure.tfplan import UnreadablePlan, summarize


def change(address: str, *actions: str) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "type": address.rsplit(".", 2)[-2],
        "name": address.rsplit(".", 1)[-1],
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": list(actions), "before": {}, "after": {}, "after_unknown": {}},
    }


def plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": list(changes)}


def test_each_action_is_counted_where_terraform_counts_it() -> None:
    # Given a plan with a create, an update, a delete, both replace orders, a no-op and a read
    document = plan(
        change("module.ecs.aws_ecs_service.api", "update"),
        change("module.ecs.aws_cloudwatch_log_group.api", "create"),
        change("module.ecs.aws_lb_listener_rule.old", "delete"),
        change("module.ecs.aws_lb_target_group.blue", "delete", "create"),
        change("module.ecs.aws_lb_target_group.green", "create", "delete"),
        change("module.ecs.aws_iam_role.task", "no-op"),
        change("data.aws_caller_identity.current", "read"),
    )
    # When it is summarized (as the JSON text the build uploads)
    summary = summarize(json.dumps(document).encode())
    # Then every address is in its place, and the counts are terraform's own "Plan:" line
    assert summary.adds == ["module.ecs.aws_cloudwatch_log_group.api"]
    assert summary.changes == ["module.ecs.aws_ecs_service.api"]
    assert summary.destroys == ["module.ecs.aws_lb_listener_rule.old"]
    assert summary.replaces == ["module.ecs.aws_lb_target_group.blue", "module.ecs.aws_lb_target_group.green"]
    assert summary.destroys_resources and not summary.empty
    assert summary.text().startswith("Plan: 3 to add, 1 to change, 3 to destroy (")
    assert summary.terraform_version == "1.9.8"


def test_an_update_only_plan_destroys_nothing_and_an_empty_plan_is_empty() -> None:
    # Given a plan that only updates the service, and one with nothing to do
    updating = summarize(plan(change("module.ecs.aws_ecs_service.api", "update")))
    empty = summarize(plan(change("module.ecs.aws_ecs_service.api", "no-op")))
    # Then the first destroys nothing, the second is empty
    assert not updating.destroys_resources and updating.text() == (
        "Plan: 0 to add, 1 to change, 0 to destroy (change: module.ecs.aws_ecs_service.api)"
    )
    assert empty.empty and empty.text() == "Plan: 0 to add, 0 to change, 0 to destroy (no changes)"


@pytest.mark.parametrize(
    "document",
    [
        {"terraform_version": "1.9.8", "resource_changes": []},  # no format_version
        {"format_version": "0.1", "resource_changes": []},  # the pre-1.0 format
        plan(change("module.ecs.aws_ecs_service.api", "explode")),  # an action this reader does not know
    ],
)
def test_what_is_not_a_known_plan_is_refused(document: dict[str, Any]) -> None:
    # When a document that is not a readable Terraform 1.x plan is summarized, Then it is refused
    with pytest.raises(UnreadablePlan):
        summarize(document)
