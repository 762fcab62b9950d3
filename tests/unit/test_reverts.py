"""How each type's revert is built from a succeeded rollback's change records (what `rollback revert` starts): the
exact "before" of each applied change, a target the type's own input model accepts; skipped changes are left
alone, and a rollback that changed nothing has nothing to revert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.models.rollback import ChangeRecord
from functions.rollbacks.contract import NothingToRevert
from functions.rollbacks.registry import ROLLBACK_TYPES
from rollback_cli.errors import UsageError
from rollback_cli.revert import revert_target

AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/skillancer-api:3"
RECORD_SET = {"Name": "skillancer.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "203.0.113.10"}]}


def record(kind: str, status: str = "applied", **parameters: Any) -> ChangeRecord:
    return ChangeRecord(
        target="t", kind=kind, before="b", after="a", status=status, detail="d", revert="r", started_at=AT,
        parameters=parameters,
    )  # fmt: skip


CASES = {
    "feature_flag": (
        [record("feature_flag.set", flag="FEATURE_NEW_MATCHING", previous=True),
         record("feature_flag.set", "skipped", flag="MAINTENANCE_MODE", previous=False)],
        {"flags": [{"name": "FEATURE_NEW_MATCHING", "enabled": True}]},
    ),
    "edge": (
        [record("edge.cloudfront", saved_state="s3://b/cloudfront/E1/saved-states/edge-1/distribution-config.json",
                saved_state_version="v7"),
         record("edge.dns_maintenance", previous=RECORD_SET)],
        {"restore": {"record_set": RECORD_SET, "distribution_config": {
            "key": "cloudfront/E1/saved-states/edge-1/distribution-config.json", "version_id": "v7"}}},
    ),
    "infrastructure": (
        [record("infrastructure.terraform-apply", targets=["module.ecs"], values="previous"),
         record("infrastructure.ecs-task-definition", cluster="prod", service="api", **{"from": TASK_DEFINITION})],
        {"terraform": True, "values": "current", "targets": ["module.ecs"], "ecs_cluster": "prod",
         "ecs_service": "api", "to_task_definition": "skillancer-api:3"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_revert_puts_back_each_applied_changes_before_as_a_target_its_type_accepts(name: str) -> None:
    # Given a succeeded rollback's change records (one of them skipped, for flags)
    changes, expected = CASES[name]
    # When its revert's target is built
    target = ROLLBACK_TYPES[name].revert(changes)  # type: ignore[misc]
    # Then it is the exact before of each applied change, and the type's input model takes it as it is
    assert target == expected
    assert ROLLBACK_TYPES[name].target_model.model_validate(target).model_dump(exclude_unset=True) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_rollback_that_changed_nothing_has_nothing_to_revert(name: str) -> None:
    # Given a rollback whose changes were all skipped (already as wanted)
    skipped = [change.model_copy(update={"status": "skipped"}) for change in CASES[name][0]]
    # When its revert is asked for
    # Then there is nothing to revert
    with pytest.raises(NothingToRevert):
        ROLLBACK_TYPES[name].revert(skipped)  # type: ignore[misc]


def test_an_infrastructure_revert_of_a_revert_plans_with_the_previous_values_again() -> None:
    # Given a revert that applied Terraform with the current values
    changes = [record("infrastructure.terraform-apply", targets=["module.ecs"], values="current")]
    # When it is reverted in turn
    # Then the plan is the previous values again
    assert ROLLBACK_TYPES["infrastructure"].revert(changes)["values"] == "previous"  # type: ignore[misc]


def test_rollback_revert_names_the_types_it_reverts_for_a_type_without_a_revert() -> None:
    # Given a type whose rollbacks are undone by hand (a Kubernetes undo is undone by the next deploy)
    # When rollback revert is asked for one
    with pytest.raises(UsageError) as refused:
        revert_target(ROLLBACK_TYPES["kubernetes_app"], [])
    # Then it says which types it reverts, and to follow the report's revert for this one
    assert "edge, feature_flag, infrastructure" in str(refused.value)
    assert "follow each change's revert in the report" in str(refused.value)
