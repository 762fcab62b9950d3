"""``ssm_parameter``: a minimal rollback type that exists only for the tests. It restores SSM parameters to an
earlier version, and was added the way every type is: this slice, its ASL part, one registration (the tests put
:data:`ROLLBACK_TYPE` into the registry), and its tests. Nothing in the spine knows it."""

from pathlib import Path

from functions.rollbacks.contract import RollbackType, SliceFunction
from tests.rollback_types.ssm_parameter.input import SsmParameterTarget

HANDLERS = "tests.rollback_types.ssm_parameter.handlers"

ROLLBACK_TYPE = RollbackType(
    name="ssm_parameter",
    title="SSM parameters restored to an earlier version",
    target_model=SsmParameterTarget,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.plan", "Each parameter's current and target version"),
        SliceFunction(
            "RestoreParameter", f"{HANDLERS}.restore", "Puts the approved value back", changes_the_world=True
        ),
    ),
    definitions_dir=Path(__file__).parent,
)
