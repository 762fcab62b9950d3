"""``kubernetes_app``: roll Deployments back as ``kubectl rollout undo`` does (runbook procedure 1)."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.kubernetes_app.config import KubernetesAppConfig
from functions.rollbacks.kubernetes_app.input import KubernetesAppTarget

HANDLERS = "functions.rollbacks.kubernetes_app.handlers"

ROLLBACK_TYPE = RollbackType(
    name="kubernetes_app",
    title="Kubernetes application rollback (kubectl rollout undo)",
    target_model=KubernetesAppTarget,
    config_model=KubernetesAppConfig,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: deployments, history, paused", memory_size=512),
        SliceFunction(
            "RollBackDeployment",
            f"{HANDLERS}.roll_back_deployment",
            "kubectl rollout undo, guarded by what was approved",
            memory_size=512,
            changes_the_world=True,
        ),
        SliceFunction("CheckRollout", f"{HANDLERS}.check_rollout", "kubectl rollout status rules", memory_size=512),
        SliceFunction("CheckPods", f"{HANDLERS}.check_pods", "Pod health of the new ReplicaSet", memory_size=512),
    ),
)
