"""What an ``edge`` step refuses or finds wrong (the ASL and the report read the class names)."""

from __future__ import annotations

from functions.errors import InvalidRollbackInput, RollbackError


class RecordNotFound(InvalidRollbackInput):
    """The configured record does not exist in the zone: there is no previous record set to keep."""


class RecordChangedSinceApproval(RollbackError):
    """The record set is no longer what approvers saw: someone changed it since. Nothing is written."""


class DistributionChangedSinceApproval(RollbackError):
    """The distribution's ETag moved since the approval (its config was changed since). Nothing is written."""


class BackupConfigInvalid(RollbackError):
    """The stored backup DistributionConfig cannot be read or is not a DistributionConfig."""


class StoredConfigNotFound(InvalidRollbackInput):
    """The stored DistributionConfig a revert names is not there (or not under the configured prefix)."""


class MaintenancePageNotServed(RollbackError):
    """The site does not answer with the maintenance page (yet): the ASL retries this a few times."""
