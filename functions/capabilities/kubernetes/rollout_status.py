"""``kubectl rollout status`` of one Deployment, evaluated once from the Deployment itself (no watch): the rules
every type that changes a Deployment's template waits on (an undo, a restart)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class RolloutState:
    done: bool
    message: str
    observed: bool
    deadline_exceeded: bool
    generation: int
    observed_generation: int
    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int


def rollout_state(deployment: Json) -> RolloutState:
    """kubectl's rules, in its order: the spec observed, then no ``ProgressDeadlineExceeded``, then every desired
    replica updated, no old replica left, every updated replica available."""
    name = deployment["metadata"]["name"]
    spec, status = deployment["spec"], deployment.get("status") or {}
    generation = int(deployment["metadata"].get("generation") or 0)
    observed_generation = int(status.get("observedGeneration") or 0)
    counts = {
        key: int(status.get(field) or 0)
        for key, field in (
            ("replicas", "replicas"),
            ("updated_replicas", "updatedReplicas"),
            ("ready_replicas", "readyReplicas"),
            ("available_replicas", "availableReplicas"),
        )
    }
    observed = generation <= observed_generation
    done = deadline_exceeded = False
    desired = spec.get("replicas")
    if not observed:
        message = "Waiting for deployment spec update to be observed..."
    elif any(
        c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
        for c in status.get("conditions") or []
    ):
        message, deadline_exceeded = f'deployment "{name}" exceeded its progress deadline', True
    elif desired is not None and counts["updated_replicas"] < desired:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{counts['updated_replicas']} out of {desired} new replicas have been updated..."
        )
    elif counts["replicas"] > counts["updated_replicas"]:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{counts['replicas'] - counts['updated_replicas']} old replicas are pending termination..."
        )
    elif counts["available_replicas"] < counts["updated_replicas"]:
        message = (
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{counts['available_replicas']} of {counts['updated_replicas']} updated replicas are available..."
        )
    else:
        message, done = f'deployment "{name}" successfully rolled out', True
    return RolloutState(
        done=done,
        message=message,
        observed=observed,
        deadline_exceeded=deadline_exceeded,
        generation=generation,
        observed_generation=observed_generation,
        **counts,
    )
