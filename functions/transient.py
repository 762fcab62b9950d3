"""Which errors are worth a retry: those of a dependency that may answer next time (server errors, throttling,
timeouts, dropped connections). Everything else (a refusal, a conflict, bad input) is permanent."""

from __future__ import annotations

import http.client
from typing import Any

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
