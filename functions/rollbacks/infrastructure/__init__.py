"""``infrastructure`` (runbook procedure 5): Terraform with the previous values file — planned in the pre-checks,
its summary approved, then exactly that saved plan applied (a plan that destroys resources only when the request
says so) — and/or an ECS service rolled back to a previous task definition revision, its deployment followed until
it completes.

The builds are started from Lambda change steps and followed with a Wait/poll loop rather than the ``.sync``
CodeBuild integration: the apply must re-check the approval record and be recorded in the audit trail before it
starts (what every change step does), and the emulated Step Functions (moto) do not run ``.sync`` integrations.
The plan build runs inside the Plan function (up to 14 minutes): the spine runs the pre-checks as one Task, and
approvers must see the plan's summary.

Its revert plans and applies Terraform with the values in use before (approved like the rollback) and rolls the
service forward to the task definition it ran."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.infrastructure.config import PLAN_TIMEOUT_LIMIT, InfrastructureConfig
from functions.rollbacks.infrastructure.input import InfrastructureTarget
from functions.rollbacks.infrastructure.revert import revert_target

HANDLERS = "functions.rollbacks.infrastructure.handlers"

ROLLBACK_TYPE = RollbackType(
    name="infrastructure",
    title="Infrastructure rollback: Terraform plan with the previous values, approved, then applied; ECS revision",
    target_model=InfrastructureTarget,
    config_model=InfrastructureConfig,
    revert=revert_target,
    functions=(
        SliceFunction(
            "Plan",
            f"{HANDLERS}.run_prechecks",
            "Pre-checks: runs terraform plan (CodeBuild) and reads its summary; the ECS service's revisions",
            timeout_seconds=PLAN_TIMEOUT_LIMIT + 60,
        ),
        SliceFunction(
            "ApplyTerraform",
            f"{HANDLERS}.apply_terraform",
            "Starts terraform apply of the approved saved plan (refuses a destroying plan not allowed), once",
            changes_the_world=True,
        ),
        SliceFunction("CheckTerraform", f"{HANDLERS}.check_terraform", "Has terraform apply ended?"),
        SliceFunction(
            "RecordTerraform",
            f"{HANDLERS}.record_terraform",
            "Records how terraform apply ended",
            changes_the_world=True,
        ),
        SliceFunction(
            "RollBackService",
            f"{HANDLERS}.roll_back_service",
            "Points the ECS service at the approved task definition revision",
            changes_the_world=True,
        ),
        SliceFunction("CheckService", f"{HANDLERS}.check_service", "Has the ECS deployment completed?"),
        SliceFunction(
            "RecordService",
            f"{HANDLERS}.record_service",
            "Records how the ECS deployment ended",
            changes_the_world=True,
        ),
    ),
)
