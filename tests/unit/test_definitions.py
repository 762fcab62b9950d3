"""Assembling a type's state machine: the spine written once, the type's states in its slot."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from functions.rollbacks.registry import ROLLBACK_TYPES
from stacks.definitions import (
    DEFAULT_CATCH,
    LAMBDA_TRANSIENT_RETRY,
    SLOT,
    SPINE_PATH,
    DefinitionError,
    assemble,
    assemble_file,
    load,
)
from tests.rollback_types import ssm_parameter

EVERY_TYPE = [*ROLLBACK_TYPES.values(), ssm_parameter.ROLLBACK_TYPE]


def minimal_part(**changes: Any) -> dict[str, Any]:
    part: dict[str, Any] = {
        "Comment": "test part",
        "StartAt": "Do it",
        "States": {"Do it": {"Type": "Task", "Resource": "${DoItFunctionArn}", "Next": "Start verification"}},
    }
    part.update(changes)
    return part


def spine_states(definition: dict[str, Any], part: dict[str, Any]) -> str:
    """The assembled states that are not the part's, with the slot's entry written as the slot."""
    states = {k: v for k, v in definition["States"].items() if k not in part["States"]}
    return json.dumps(states, sort_keys=True).replace(json.dumps(part["StartAt"]), json.dumps(SLOT))


def test_the_spine_is_identical_in_every_registered_type() -> None:
    # Given every registered rollback type (and the test-only one)
    assembled = [(load(t.asl_part), assemble_file(t.asl_part)) for t in EVERY_TYPE]
    # Then, the type's own states aside, their definitions are the same spine
    spines = {spine_states(definition, part) for part, definition in assembled}
    assert len(spines) == 1
    assert len(EVERY_TYPE) >= 2


def test_every_type_is_the_spine_with_its_states_in_the_slot() -> None:
    spine = load(SPINE_PATH)
    for rollback_type in EVERY_TYPE:
        part = load(rollback_type.asl_part)
        definition = assemble(part, part_name=rollback_type.name)
        # the slot is gone, the announcement leads into the type's first state, which leads to verification
        assert SLOT not in definition["States"]
        assert set(definition["States"]) == (set(spine["States"]) - {SLOT}) | set(part["States"])
        assert definition["States"]["Announce rollback"]["Next"] == part["StartAt"]
        assert definition["StartAt"] == spine["StartAt"]


def test_every_task_retries_the_lambda_service_and_every_top_level_step_can_fail_into_the_outcome_chain() -> None:
    definition = assemble(minimal_part())
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert "Do it" in tasks
    for name, state in tasks.items():
        assert state["Retry"][0] == LAMBDA_TRANSIENT_RETRY, name
        assert state["Catch"], name
    assert definition["States"]["Do it"]["Catch"] == [DEFAULT_CATCH]
    # a state's own Catch is kept: recording the outcome never blocks releasing the lock
    assert definition["States"]["Record outcome"]["Catch"][0]["Next"] == "Release lock after outcome"


def test_tasks_inside_a_map_retry_but_are_caught_by_the_map() -> None:
    rollback_type = ROLLBACK_TYPES["kubernetes_app"]
    definition = assemble_file(rollback_type.asl_part)
    map_state = definition["States"]["Roll back deployments"]
    assert map_state["Catch"] == [DEFAULT_CATCH]
    for name, state in map_state["ItemProcessor"]["States"].items():
        if state["Type"] == "Task":
            assert state["Retry"][0] == LAMBDA_TRANSIENT_RETRY, name
            assert "Catch" not in state, name
    # the type's own retry (pods still starting) follows the common one
    assert map_state["ItemProcessor"]["States"]["Check pod health"]["Retry"][-1]["ErrorEquals"] == ["PodsUnhealthy"]


def test_assembling_does_not_change_its_inputs() -> None:
    part, spine = minimal_part(), load(SPINE_PATH)
    before = copy.deepcopy((part, spine))
    assemble(part, spine)
    assert (part, spine) == before


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (
            minimal_part(States={"Do it": {"Type": "Task", "Resource": "x", "Next": "Release lock"}}),
            "state 'Do it' goes to 'Release lock'",
        ),
        (
            minimal_part(
                States={"Acquire lock": {"Type": "Pass", "Next": "Start verification"}}, StartAt="Acquire lock"
            ),
            "state names already used by the spine: Acquire lock",
        ),
        (minimal_part(StartAt="Nowhere"), "StartAt 'Nowhere' is not one of its states"),
        (
            minimal_part(
                States={
                    "Do it": {
                        "Type": "Task",
                        "Resource": "x",
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Rollback complete"}],
                        "Next": "Start verification",
                    }
                }
            ),
            "goes to 'Rollback complete'",
        ),
    ],
)
def test_a_part_that_would_bypass_the_spine_is_refused(part: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        assemble(part, part_name="bad.asl.json")


def test_every_task_retries_transient_failures_with_backoff_and_jitter() -> None:
    definition = assemble_file(ROLLBACK_TYPES["kubernetes_app"].asl_part)
    inner = definition["States"]["Roll back deployments"]["ItemProcessor"]["States"]
    tasks = [s for s in [*definition["States"].values(), *inner.values()] if s["Type"] == "Task"]
    for task in tasks:
        (transient,) = [r for r in task["Retry"] if r["ErrorEquals"] == ["TransientError"]]
        assert transient["JitterStrategy"] == "FULL" and transient["MaxDelaySeconds"] <= 60
        assert transient["BackoffRate"] > 1 and transient["MaxAttempts"] >= 2
