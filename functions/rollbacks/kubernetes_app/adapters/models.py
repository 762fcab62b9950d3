"""What the rollout adapter returns: plain, typed facts about a Deployment's revisions and rollout."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RevisionInfo(_Model):
    """One line of ``kubectl rollout history``."""

    revision: int
    change_cause: str | None = None
    images: list[str]


class UndoPlan(_Model):
    """What ``kubectl rollout undo`` would do, computed without writing anything."""

    deployment: str
    namespace: str
    current_revision: int
    target_revision: int
    current_images: list[str]
    target_images: list[str]
    resource_version: str
    template_hash: str = ""  # the current pod template (without the hash label): what approvers saw running
    target_template_hash: str = ""  # the pod template the rollback brings back
    already_at_target: bool
    paused: bool = False


class UndoResult(UndoPlan):
    """The outcome of an undo; ``resource_version`` is the Deployment's after the patch (unchanged if skipped)."""

    skipped: bool
    message: str


class RolloutStatus(_Model):
    """One evaluation of ``kubectl rollout status`` (no watch)."""

    done: bool
    message: str
    revision: int
    observed: bool
    generation: int
    observed_generation: int
    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int


class PodProblem(_Model):
    pod: str
    reason: str
    message: str | None = None


class PodHealth(_Model):
    """Health of the pods of the Deployment's current (new) ReplicaSet."""

    healthy: bool
    ready: int
    desired: int
    replica_set: str | None = None
    problems: list[PodProblem]
