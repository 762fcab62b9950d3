"""The input JSON Schemas in the repo match the models, and what they accept the workflow accepts."""

from __future__ import annotations

import json

import jsonschema
import pytest

from functions.models.schemas import main
from functions.rollbacks.registry import ROLLBACK_TYPES
from local.pipeline import rollback_input


def test_schema_files_are_up_to_date() -> None:
    assert main(["--check"]) == 0, "run: python -m functions.models.schemas"


def test_every_registered_type_publishes_its_schema() -> None:
    for rollback_type in ROLLBACK_TYPES.values():
        schema = json.loads(rollback_type.input_schema_path.read_text())
        assert schema["properties"]["rollback_type"]["const"] == rollback_type.name
        assert "target" in schema["required"]


def test_kubernetes_app_schema_accepts_the_documented_example_and_refuses_a_wrong_field() -> None:
    schema = json.loads(ROLLBACK_TYPES["kubernetes_app"].input_schema_path.read_text())
    jsonschema.validate(rollback_input(to_version="v1.0.0-rc.5"), schema)
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.validate(rollback_input(colour="blue"), schema)
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(rollback_input(deployments=["Bad_Name"]), schema)
    with pytest.raises(jsonschema.ValidationError, match="replicas"):
        jsonschema.validate(rollback_input(target={"deployments": ["skillancer-web"], "replicas": 3}), schema)
