"""The flags that could fix a scenario instead of a rollback come from the decision matrix: intake puts them in the
workflow's input (`feature_flags`), every type's pre-checks report them (`feature_flag_options`) and the approvers'
email and page show them; they name flags the `feature_flag` type can set."""

from __future__ import annotations

from functions.rollbacks.registry import ROLLBACK_TYPES
from tests.support.events import alarm_state_change
from tests.unit.test_intake import World

FLAGS = ["FEATURE_SKILLPOD_ENABLED", "FEATURE_NEW_MATCHING"]


def test_a_broken_feature_proposes_the_rollback_with_its_flags_as_the_alternative() -> None:
    # Given the feature-errors alarm entering ALARM (the "Major feature broken" row: consider a rollback)
    world = World()
    (outcome,) = world.handle(alarm_state_change(name="skillancer-feature-errors"))
    # Then the proposed rollback's input names the row's flags as the alternative to report
    assert outcome.action == "started"
    (execution,) = world.executions.values()
    assert execution["input"]["feature_flags"] == FLAGS
    # And that input is valid for its workflow, and the same flags are a valid feature_flag rollback
    ROLLBACK_TYPES["kubernetes_app"].parse_input({**execution["input"], "rollback_type": "kubernetes_app"})
    switch_off = {
        **execution["input"],
        "rollback_type": "feature_flag",
        "target": {"flags": [f"{f}=false" for f in FLAGS]},
    }
    parsed = ROLLBACK_TYPES["feature_flag"].parse_input(switch_off)
    assert [(f.name, f.enabled) for f in parsed.target.settings()] == [(f, False) for f in FLAGS]  # type: ignore[attr-defined]


def test_other_rows_propose_no_flag() -> None:
    world = World()
    world.handle(alarm_state_change(name="skillancer-api-5xx-rate"))
    (execution,) = world.executions.values()
    assert execution["input"].get("feature_flags", []) == []
