"""JSON Schemas of the workflows' inputs, generated from the pydantic models into ``state_machines/``.

python -m functions.models.schemas          # rewrite the schema files
python -m functions.models.schemas --check  # fail if they are stale (the tests do this)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from functions.models.rollback import KubernetesAppRollbackInput

STATE_MACHINES_DIR = Path(__file__).resolve().parents[2] / "state_machines"
INPUT_MODELS: dict[str, type[BaseModel]] = {"kubernetes_app": KubernetesAppRollbackInput}


def schema_path(rollback_type: str) -> Path:
    return STATE_MACHINES_DIR / f"{rollback_type}.input.schema.json"


def render(rollback_type: str) -> str:
    schema = INPUT_MODELS[rollback_type].model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{rollback_type}.input.schema.json",
        **schema,
    }
    return json.dumps(schema, indent=2) + "\n"


def main(argv: list[str]) -> int:
    stale = [t for t in INPUT_MODELS if not schema_path(t).exists() or schema_path(t).read_text() != render(t)]
    if "--check" in argv:
        for rollback_type in stale:
            print(f"{schema_path(rollback_type)} is stale: run python -m functions.models.schemas", file=sys.stderr)
        return 1 if stale else 0
    for rollback_type in INPUT_MODELS:
        schema_path(rollback_type).write_text(render(rollback_type))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
