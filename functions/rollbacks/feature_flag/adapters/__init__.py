"""The providers that hold feature flags: Doppler, the product's admin API, SSM Parameter Store. Each reads a flag
as a boolean (refusing anything that is not exactly ``true`` / ``false``) and writes one."""

from __future__ import annotations

from typing import Protocol

from functions.errors import InvalidRollbackInput, RollbackError


class FlagNotFound(InvalidRollbackInput):
    """The provider has no such flag: nothing to flip (and nothing a revert could put back exactly)."""


class FlagNotBoolean(InvalidRollbackInput):
    """The flag holds something other than true or false: a revert could not write it back exactly."""


class FlagProviderRefused(RollbackError):
    """The provider refused the call for good (bad token, unknown project or config, bad request)."""


class FlagChangedSinceApproval(RollbackError):
    """The flag is no longer what the approvers saw: someone changed it since. Nothing is written."""


class FlagNotAsWritten(RollbackError):
    """Read back after the change, a flag is not what was written."""


class ProviderUnavailable(Exception):
    """The provider answered 5xx or 429 (``status``): transient, the workflow tries the step again."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FlagProvider(Protocol):
    @property
    def location(self) -> str:
        """Where the flags live, e.g. ``doppler:skillancer/prd`` (part of each flag's lock key)."""
        ...

    def read(self, name: str) -> bool: ...

    def write(self, name: str, enabled: bool, *, expected: bool) -> None:
        """Set ``name`` to ``enabled``; ``expected`` is what it must hold now (a provider that supports a
        conditional write refuses the write otherwise)."""
        ...


def as_text(enabled: bool) -> str:
    return "true" if enabled else "false"


def from_text(name: str, value: object, where: str) -> bool:
    if value == "true" or value is True:
        return True
    if value == "false" or value is False:
        return False
    raise FlagNotBoolean(f"target.flags: {name} in {where} holds {str(value)[:40]!r}, not true or false")
