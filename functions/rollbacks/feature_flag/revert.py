"""The revert of a ``feature_flag`` rollback: each flag it set goes back to the value it held before (recorded by
the change step before anything changed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.models.rollback import ChangeRecord
from functions.rollbacks.contract import NothingToRevert
from functions.rollbacks.feature_flag.kinds import KIND


def revert_target(changes: Sequence[ChangeRecord]) -> dict[str, Any]:
    flags = [
        {"name": change.parameters["flag"], "enabled": change.parameters["previous"]}
        for change in changes
        if change.kind == KIND and change.status == "applied"
    ]
    if not flags:
        raise NothingToRevert("the rollback set no flag (or put them back itself)")
    return {"flags": flags}
