"""Property-based: the published JSON Schema and the model the workflow validates with agree on every input.
Inputs are generated from the schema (valid ones) and from mutations of them (each breaking one rule); what the
schema refuses, the first state refuses, naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import ValidationError

from functions.errors import InvalidRollbackInput
from functions.logic.validation import validate_input
from functions.models.rollback import ApprovalWindow
from functions.rollbacks.registry import ROLLBACK_TYPES
from functions.settings import Approver

KUBERNETES_APP = ROLLBACK_TYPES["kubernetes_app"]
SCHEMA = json.loads(KUBERNETES_APP.input_schema_path.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
LATER = datetime(2100, 1, 1, tzinfo=UTC)  # the rollback "starts" after any generated detection time
APPROVERS = [Approver(id=f"p{i}", name=f"P{i}", email=f"p{i}@example.com", roles=["on-call", "lead"]) for i in range(3)]
WINDOW = ApprovalWindow(timeout_seconds=1800, escalate_after_seconds=450, escalation_roles=["cto"])

# A wrong value for each kind of field, and fields that do not exist.
WRONG_VALUES = st.sampled_from([True, 1, "1", 1.5, None, [], {}, "x" * 3000, "line\nbreak", "Bad_Name"])
FIELDS = sorted(SCHEMA["properties"])
TARGET_FIELDS = sorted(SCHEMA["$defs"]["KubernetesAppTarget"]["properties"])


def validate(raw: Any):  # type: ignore[no-untyped-def]
    return validate_input(
        raw, rollback_type=KUBERNETES_APP, execution_arn="arn:x", execution_name="exec", started_at=LATER,
        configured_health_urls={}, approvers=APPROVERS, approval_window=WINDOW,
    )  # fmt: skip


def model_accepts(raw: dict[str, Any]) -> bool:
    try:
        KUBERNETES_APP.parse_input(raw)
    except ValidationError:
        return False
    return True


# No shrinking: a failing input is printed as generated (shrinking these nested documents takes minutes).
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@PROPERTY
@given(from_schema(SCHEMA))
def test_every_input_the_schema_accepts_the_model_accepts(raw: dict[str, Any]) -> None:
    assert model_accepts(raw), raw


@st.composite
def broken_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid input with one rule broken: a wrong value, a missing required field, or an unknown field."""
    raw: dict[str, Any] = draw(from_schema(SCHEMA))
    how = draw(st.sampled_from(["wrong envelope value", "wrong target value", "drop required", "unknown field"]))
    if how == "wrong envelope value":
        raw[draw(st.sampled_from(FIELDS))] = draw(WRONG_VALUES)
    elif how == "wrong target value":
        raw["target"][draw(st.sampled_from(TARGET_FIELDS))] = draw(WRONG_VALUES)
    elif how == "drop required":
        raw.pop(draw(st.sampled_from(SCHEMA["required"])))
    else:
        raw[draw(st.sampled_from(["colour", "replicas", "Service"]))] = draw(WRONG_VALUES)
    return raw


@PROPERTY
@given(broken_inputs())
def test_the_schema_and_the_model_agree_and_a_refusal_names_the_field(raw: dict[str, Any]) -> None:
    errors = sorted(VALIDATOR.iter_errors(raw), key=lambda e: list(e.absolute_path))
    # The model refuses exactly what the schema refuses
    assert model_accepts(raw) == (not errors), (raw, [e.message for e in errors])
    if errors:
        # And the workflow's first step refuses it, naming a field the schema names
        with pytest.raises(InvalidRollbackInput) as refusal:
            validate(raw)
        named = {str(part) for error in errors for part in error.absolute_path} | {
            str(field) for error in errors if error.validator in ("required", "additionalProperties", "not")
            for field in (error.message.split("'")[1:2] or ["input"])
        }  # fmt: skip
        message = str(refusal.value)
        assert any(field in message for field in named) or "mutually exclusive" in message, (message, named)
