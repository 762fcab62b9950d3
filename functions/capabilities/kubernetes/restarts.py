"""``kubectl rollout restart``: a new ``restartedAt`` annotation in the pod template (a strategic merge patch, as
kubectl sends it), so every pod is replaced and picks up what changed outside the Deployment (a switched secret)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.capabilities.kubernetes.rollout_status import RolloutState, rollout_state

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


def restart_patch(at: datetime) -> dict[str, Any]:
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at.isoformat(timespec="seconds")}}}}}


def rollout_restart(apps: Any, namespace: str, name: str, at: datetime) -> int:
    """Restarts Deployment ``namespace/name``; returns the generation that carries the restart."""
    patched = apps.patch_namespaced_deployment(name, namespace, restart_patch(at), content_type=STRATEGIC_MERGE_PATCH)
    return int(patched["metadata"].get("generation") or 0)


def restart_state(apps: Any, namespace: str, name: str) -> RolloutState:
    return rollout_state(apps.read_namespaced_deployment(name, namespace))
