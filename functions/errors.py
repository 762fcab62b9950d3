"""Errors raised by the rollback functions.

The class names are the ``ErrorEquals`` names in the state machine definitions: a Lambda task that raises
``DeploymentPaused`` fails the ASL task with error ``DeploymentPaused``. Rename one and the ASL must follow.
"""


class RollbackError(Exception):
    """Base class: a rollback cannot proceed, for a reason worth showing to a person."""


class InvalidRollbackInput(RollbackError):
    """The workflow input does not match the schema; the message names the field."""


class RollbackLocked(RollbackError):
    """Another rollback for the same service and environment holds the lock."""


class DeploymentNotFound(RollbackError):
    """The Deployment does not exist in the namespace."""


class DeploymentPaused(RollbackError):
    """kubectl refuses to roll back a paused Deployment; so do we."""


class NoRolloutHistory(RollbackError):
    """The Deployment has no previous revision to go back to."""


class RevisionNotFound(RollbackError):
    """The requested revision (or version) is not in the Deployment's history."""


class ConcurrentModification(RollbackError):
    """The Deployment changed between reading it and patching it (resourceVersion test failed)."""


class RolloutFailed(RollbackError):
    """The rollout will not complete: progress deadline exceeded."""


class RolloutTimedOut(RollbackError):
    """The rollout did not complete within the allowed time."""


class PodsUnhealthy(RollbackError):
    """Pods of the new ReplicaSet are failing (ImagePullBackOff, CrashLoopBackOff, Unschedulable...)."""


class ServiceUnhealthy(RollbackError):
    """The health endpoints did not answer healthy within the verification window."""


class ApprovalRejected(RollbackError):
    """An approver rejected the rollback."""


class ApprovalMissing(RollbackError):
    """The executing step found no granted approval for this rollback: nothing is changed."""


class ApprovalExpired(RollbackError):
    """Nobody decided before the approval window closed."""
