"""Why a Kubernetes application rollback cannot proceed. The class names are the ASL error names."""

from functions.errors import RollbackError


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
