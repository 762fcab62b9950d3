"""Pre-checks of a feature-flag rollback: read every flag where it lives now. What each holds is what approvers
see as "before", and what the change step will insist on finding (and what a revert writes back); a flag already
in the wanted state is skipped."""

from __future__ import annotations

from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.feature_flag.adapters import FlagProvider, as_text
from functions.rollbacks.feature_flag.adapters.providers import describe
from functions.rollbacks.feature_flag.input import FeatureFlagTarget
from functions.rollbacks.feature_flag.kinds import KIND


def revert_command(rollback_id: str) -> str:
    return f"rollback revert {rollback_id}"


def plan_flags(request: RollbackRequest, provider: FlagProvider) -> RollbackPlan:
    target = FeatureFlagTarget.model_validate(request.target)
    where = describe(provider)
    changes = []
    for flag in target.settings():
        current = provider.read(flag.name)
        skip = current == flag.enabled
        changes.append(
            PlannedChange(
                target=f"flag {flag.name}",
                kind=KIND,
                before=as_text(current),
                after=flag.text,
                detail=f"{where}: {flag.name} is {as_text(current)}"
                + (", already as wanted: nothing to write" if skip else f"; will be set to {flag.text}"),
                revert=f"{revert_command(request.rollback_id)} (sets {flag.name} back to {as_text(current)})",
                resource=f"feature-flag:{provider.location}/{flag.name}",
                skip=skip,
                parameters={"flag": flag.name, "previous": current, "enabled": flag.enabled},
            )
        )
    moving = [c for c in changes if not c.skip]
    summary = (
        f"{len(moving)} of {len(changes)} flag(s) to set in {where}: "
        + "; ".join(f"{c.parameters['flag']} {c.before} -> {c.after}" for c in moving)
        if moving
        else f"every flag is already as wanted in {where}: nothing to change"
    )
    return RollbackPlan(changes=changes, feature_flag_options=request.feature_flags, summary=summary)
