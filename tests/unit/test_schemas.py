"""The input JSON Schemas in the repo match the models, and what they accept the workflow accepts."""

from __future__ import annotations

import json

import jsonschema
import pytest

from functions.models.schemas import INPUT_MODELS, main, schema_path
from local.pipeline import rollback_input


def test_schema_files_are_up_to_date() -> None:
    assert main(["--check"]) == 0, "run: python -m functions.models.schemas"


@pytest.mark.parametrize("rollback_type", list(INPUT_MODELS))
def test_schema_accepts_the_documented_example_and_refuses_a_wrong_field(rollback_type: str) -> None:
    schema = json.loads(schema_path(rollback_type).read_text())
    jsonschema.validate(rollback_input(to_version="v1.0.0-rc.5"), schema)
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.validate(rollback_input(colour="blue"), schema)
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(rollback_input(deployments=["Bad_Name"]), schema)
