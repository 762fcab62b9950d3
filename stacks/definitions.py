"""Assemble a rollback type's state machine: the spine (``state_machines/spine.asl.json``), written once, with the
type's own states (``state_machines/<type>.asl.json``) in its ``Roll back`` slot.

The assembly also adds what every state would otherwise repeat: on every Task the retry of the Lambda service's
transient errors and of the step's own (``TransientError``: 5xx, 429, throttling, timeouts, dropped connections;
with backoff and jitter), on every top-level Task a timeout, and on every top-level Task, Map and Parallel without a
Catch of its own, the catch that sends any failure to the spine's outcome chain (``Mark failed``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_MACHINES_DIR = Path(__file__).resolve().parents[1] / "state_machines"
SPINE_PATH = STATE_MACHINES_DIR / "spine.asl.json"
SLOT = "Roll back"
FAILURE_STATE = "Mark failed"

LAMBDA_TRANSIENT_RETRY: dict[str, Any] = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ],
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 2,
}
# What a step raises for a dependency's transient failure (functions/steps.py): tried again, never forever.
TRANSIENT_RETRY: dict[str, Any] = {
    "ErrorEquals": ["TransientError"],
    "IntervalSeconds": 2,
    "MaxAttempts": 4,
    "BackoffRate": 2,
    "MaxDelaySeconds": 30,
    "JitterStrategy": "FULL",
}
DEFAULT_CATCH: dict[str, Any] = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": FAILURE_STATE}
# A Lambda task that hangs is given up (States.Timeout) after this; the functions themselves time out sooner.
TASK_TIMEOUT_SECONDS = 120

Definition = dict[str, Any]


class DefinitionError(ValueError):
    """A spine or part that cannot be assembled; the message names the file and the state."""


def load(path: Path) -> Definition:
    definition: Definition = json.loads(path.read_text())
    return definition


def transitions(state: dict[str, Any]) -> Iterator[str]:
    """The names of the states ``state`` can go to next."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def _redirect(state: dict[str, Any], old: str, new: str) -> None:
    if state.get("Next") == old:
        state["Next"] = new
    if state.get("Default") == old:
        state["Default"] = new
    for item in [*state.get("Choices", []), *state.get("Catch", [])]:
        if item["Next"] == old:
            item["Next"] = new


def _nested_states(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    processors = [state["ItemProcessor"]] if "ItemProcessor" in state else []
    processors += state.get("Branches", [])
    for processor in processors:
        for nested in processor["States"].values():
            yield nested
            yield from _nested_states(nested)


def _with_common_handling(state: dict[str, Any], *, top_level: bool) -> None:
    if state["Type"] == "Task" and LAMBDA_TRANSIENT_RETRY not in state.get("Retry", []):
        common = [copy.deepcopy(LAMBDA_TRANSIENT_RETRY), copy.deepcopy(TRANSIENT_RETRY)]
        state["Retry"] = [*common, *state.get("Retry", [])]
    # Top-level tasks only: moto 5.2.5 evaluates a task's TimeoutSeconds on an evaluation stack that the parallel
    # iterations of an inline Map share, and may record another iteration's input as the timeout, which then
    # breaks GetExecutionHistory. Inside a Map, each function's own Lambda timeout bounds the task.
    if top_level and state["Type"] == "Task" and not {"TimeoutSeconds", "TimeoutSecondsPath"} & set(state):
        state["TimeoutSeconds"] = TASK_TIMEOUT_SECONDS
    if top_level and state["Type"] in ("Task", "Map", "Parallel") and "Catch" not in state:
        state["Catch"] = [copy.deepcopy(DEFAULT_CATCH)]
    for nested in _nested_states(state):
        _with_common_handling(nested, top_level=False)


def assemble(part: Definition, spine: Definition | None = None, *, part_name: str = "part") -> Definition:
    """The spine with ``part``'s states in its slot; the part may go to its own states, to where the slot went
    (``Start verification``) and to the failure chain, nowhere else."""
    spine = copy.deepcopy(spine if spine is not None else load(SPINE_PATH))
    part = copy.deepcopy(part)
    spine_states: dict[str, Any] = spine["States"]
    part_states: dict[str, Any] = part["States"]
    if SLOT not in spine_states:
        raise DefinitionError(f"spine: no {SLOT!r} state to put the rollback type's states in")
    exit_state = spine_states[SLOT]["Next"]
    clashes = sorted(set(part_states) & set(spine_states))
    if clashes:
        raise DefinitionError(f"{part_name}: state names already used by the spine: {', '.join(clashes)}")
    if part["StartAt"] not in part_states:
        raise DefinitionError(f"{part_name}: StartAt {part['StartAt']!r} is not one of its states")
    allowed = set(part_states) | {exit_state, FAILURE_STATE}
    for name, state in part_states.items():
        for target in transitions(state):
            if target not in allowed:
                raise DefinitionError(
                    f"{part_name}: state {name!r} goes to {target!r}; a rollback type's states may go to their own "
                    f"states, {exit_state!r} or {FAILURE_STATE!r}"
                )
    states: dict[str, Any] = {}
    for name, state in spine_states.items():
        if name == SLOT:
            states.update(part_states)
            continue
        _redirect(state, SLOT, part["StartAt"])
        states[name] = state
    for state in states.values():
        _with_common_handling(state, top_level=True)
    comment = f"{part['Comment']} | {spine['Comment']}" if part.get("Comment") else spine["Comment"]
    return {**{k: v for k, v in spine.items() if k != "States"}, "Comment": comment, "States": states}


def assemble_file(part_path: Path) -> Definition:
    return assemble(load(part_path), part_name=part_path.name)
