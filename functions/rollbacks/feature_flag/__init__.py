"""``feature_flag``: set feature flags (runbook procedure 3) in the provider configured for the service and
environment (Doppler, the product's admin API or SSM Parameter Store), recording each flag's previous value; if a
later flag fails, the ones already set are put back."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.feature_flag.config import FeatureFlagConfig
from functions.rollbacks.feature_flag.input import FeatureFlagTarget
from functions.rollbacks.feature_flag.revert import revert_target

HANDLERS = "functions.rollbacks.feature_flag.handlers"

ROLLBACK_TYPE = RollbackType(
    name="feature_flag",
    title="Feature flags set through their provider (Doppler, admin API, SSM)",
    target_model=FeatureFlagTarget,
    config_model=FeatureFlagConfig,
    revert=revert_target,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: reads each flag's current value"),
        SliceFunction(
            "SetFlag",
            f"{HANDLERS}.set_flag",
            "Sets one approved flag, only if it still holds what approvers saw",
            changes_the_world=True,
        ),
        SliceFunction("CheckFlags", f"{HANDLERS}.check_flags", "Reads the flags back"),
        SliceFunction(
            "PutFlagsBack",
            f"{HANDLERS}.put_flags_back",
            "After a failure: puts the flags already set back to their previous values",
            changes_the_world=True,
        ),
    ),
)
