"""JSON Schemas of the workflows' inputs, generated from each registered type's input model into
``state_machines/<type>.input.schema.json``.

python -m functions.models.schemas          # rewrite the schema files
python -m functions.models.schemas --check  # fail if they are stale (the tests do this)
"""

from __future__ import annotations

import json
import sys

from functions.rollbacks.registry import ROLLBACK_TYPES, rollback_type


def render(name: str) -> str:
    schema = rollback_type(name).input_model.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{name}.input.schema.json",
        **schema,
    }
    return json.dumps(schema, indent=2) + "\n"


def main(argv: list[str]) -> int:
    paths = {name: registered.input_schema_path for name, registered in ROLLBACK_TYPES.items()}
    stale = [name for name, path in paths.items() if not path.exists() or path.read_text() != render(name)]
    if "--check" in argv:
        for name in stale:
            print(f"{paths[name]} is stale: run python -m functions.models.schemas", file=sys.stderr)
        return 1 if stale else 0
    for name, path in paths.items():
        path.write_text(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
