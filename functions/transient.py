"""Which errors are worth a retry: those of a dependency that may answer next time (server errors, throttling,
timeouts, dropped connections). Everything else (a refusal, a conflict, bad input) is permanent."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any, TypeVar

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
    }
)
TRANSIENT_TYPE_NAMES = frozenset(
    {
        # botocore
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        # urllib3
        "ProtocolError",
        "NewConnectionError",
        "MaxRetryError",
        "TimeoutError",
    }
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError | http.client.HTTPException):
        return True
    if any(kind.__name__ in TRANSIENT_TYPE_NAMES for kind in type(error).__mro__):
        return True
    response: Any = getattr(error, "response", None)  # botocore ClientError
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in THROTTLING_CODES or int(status or 0) >= 500
    status = getattr(error, "status", None)  # an HTTP client's error with the response status
    return isinstance(status, int) and (status >= 500 or status == 429)


ResultT = TypeVar("ResultT")


def retry_transient(
    call: Callable[[], ResultT], *, attempts: int, first_delay: float, sleep: Callable[[float], None] = time.sleep
) -> ResultT:
    """``call`` tried up to ``attempts`` times while it fails transiently, the delay doubling from ``first_delay``
    seconds; a permanent failure, or the last transient one, is raised."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
        sleep(delay)
        delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")


def describe_error(error: BaseException) -> str:
    """An error in a few words for a person: the service's error code and message, else the exception's."""
    response: Any = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        details = response["Error"]
        return f"{details.get('Code', type(error).__name__)}: {details.get('Message', '')}".rstrip(": ")
    return f"{type(error).__name__}: {error}".rstrip(": ")
