"""What can go wrong on the operator's side, and the exit code each ends with."""

from __future__ import annotations

OK = 0
ROLLBACK_FAILED = 1  # `status --follow`: the rollback ended in anything but SUCCEEDED
USAGE = 2  # bad arguments or input, or nothing found by that name: nothing was started
AWS_UNAVAILABLE = 3  # AWS (or the emulators) could not be reached or refused the call
INTERRUPTED = 130

EXIT_CODES = (
    "exit codes: 0 ok; 1 the followed rollback did not succeed (status --follow); 2 bad usage or input, or no such "
    "stack or execution (nothing was started); 3 AWS could not be reached or refused the call."
)


class CliError(Exception):
    """A message for the operator and the exit code it ends with."""

    exit_code = USAGE


class UsageError(CliError):
    exit_code = USAGE


class AwsUnavailable(CliError):
    exit_code = AWS_UNAVAILABLE
