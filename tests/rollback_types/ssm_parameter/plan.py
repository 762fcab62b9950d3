"""Pre-checks: each parameter's current version and the version it goes back to."""

from __future__ import annotations

from typing import Any

from functions.errors import RollbackError
from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from tests.rollback_types.ssm_parameter.input import SsmParameterTarget


class VersionNotFound(RollbackError):
    """The parameter has no such (or no previous) version."""


def planned_change(ssm: Any, name: str, to_version: int | None) -> PlannedChange:
    history = {v["Version"]: v["Value"] for v in ssm.get_parameter_history(Name=name)["Parameters"]}
    current = max(history)
    target = to_version or max((v for v in history if v < current), default=0)
    if target not in history:
        raise VersionNotFound(f"parameter {name}: no version {target or 'before ' + str(current)}")
    return PlannedChange(
        target=f"parameter {name}",
        kind="ssm.parameter-restore",
        before=f"version {current}: {history[current]}",
        after=f"version {target}: {history[target]}",
        revert=f"aws ssm put-parameter --name {name} --overwrite --value '{history[current]}'",
        resource=f"ssm:parameter{name}",
        skip=history[current] == history[target],
        parameters={"name": name, "approved_version": current, "value": history[target]},
    )


def plan_rollback(request: RollbackRequest, ssm: Any) -> RollbackPlan:
    target = SsmParameterTarget.model_validate(request.target)
    changes = [planned_change(ssm, name, target.to_version) for name in target.names]
    return RollbackPlan(
        changes=changes,
        feature_flag_options=request.feature_flags,
        summary="\n".join(f"{c.target}: {c.before} -> {c.after}" for c in changes),
    )
