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


class ServiceUnhealthy(RollbackError):
    """The health endpoints did not answer healthy within the verification window."""


class ApprovalRejected(RollbackError):
    """An approver rejected the rollback."""


class ApprovalMissing(RollbackError):
    """The executing step found no granted approval for this rollback: nothing is changed."""


class ApprovalUndeliverable(RollbackError):
    """SES refused the approval emails for good (unverified identity or recipient, suppressed address...): the
    approvers it did reach cannot make the quorum, so nobody could ever approve. The message names who and why."""


class ApprovalExpired(RollbackError):
    """Nobody decided before the approval window closed."""


class TransientError(RollbackError):
    """A dependency failed in a way worth trying again (5xx, 429, throttling, a timeout, a dropped connection):
    the workflow retries the step with backoff and jitter. Raised by the step wrapper in place of such errors."""
