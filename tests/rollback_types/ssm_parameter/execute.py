"""Put the approved value back, unless the parameter moved since it was approved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.errors import RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange


class ParameterChanged(RollbackError):
    """The parameter has a newer version than the one approvers saw."""


def restore(change: PlannedChange, ssm: Any, now: datetime) -> ChangeRecord:
    name, approved = str(change.parameters["name"]), change.parameters["approved_version"]
    current = ssm.get_parameter(Name=name)["Parameter"]["Version"]
    if current != approved:
        raise ParameterChanged(f"parameter {name} is at version {current}; approvers saw version {approved}")
    if not change.skip:
        ssm.put_parameter(Name=name, Value=str(change.parameters["value"]), Overwrite=True, Type="String")
    if change.skip:
        return ChangeRecord.of(change, "skipped", "already at the target value", now)
    return ChangeRecord.of(change, "applied", "value restored", now)
