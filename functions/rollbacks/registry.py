"""The one place rollback types are registered. CDK (one state machine each), input validation, the JSON
Schemas, the CLI and the drill all read :data:`ROLLBACK_TYPES`.

Adding a type: its slice (``functions/rollbacks/<type>/``), its ASL part (``state_machines/<type>.asl.json``),
one line here, and its tests.
"""

from __future__ import annotations

from functions.rollbacks import (
    database_pitr,
    database_schema,
    database_snapshot,
    edge,
    feature_flag,
    infrastructure,
    kubernetes_app,
)
from functions.rollbacks.contract import RollbackType

ROLLBACK_TYPES: dict[str, RollbackType] = {
    rollback_type.name: rollback_type
    for rollback_type in (
        kubernetes_app.ROLLBACK_TYPE,
        database_pitr.ROLLBACK_TYPE,
        database_snapshot.ROLLBACK_TYPE,
        database_schema.ROLLBACK_TYPE,
        feature_flag.ROLLBACK_TYPE,
        edge.ROLLBACK_TYPE,
        infrastructure.ROLLBACK_TYPE,
    )
}


def rollback_type(name: str) -> RollbackType:
    try:
        return ROLLBACK_TYPES[name]
    except KeyError:
        raise LookupError(f"unknown rollback type {name!r}; registered: {', '.join(sorted(ROLLBACK_TYPES))}") from None
