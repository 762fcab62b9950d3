"""Which errors a step retries: a dependency's transient failures, never a refusal."""

from __future__ import annotations

import http.client

import pytest
import urllib3
from botocore.exceptions import ClientError, EndpointConnectionError

from functions.capabilities.kubernetes.api import api_exception
from functions.transient import is_transient


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (api_exception(500, "Internal Server Error", b"{}", {}), True),
        (api_exception(503, "Service Unavailable", b"{}", {}), True),
        (api_exception(429, "Too Many Requests", b"{}", {}), True),
        (api_exception(409, "Conflict", b"{}", {}), False),
        (api_exception(422, "Unprocessable Entity", b"{}", {}), False),
        (api_exception(403, "Forbidden", b"{}", {}), False),
        (urllib3.exceptions.ProtocolError("Connection aborted."), True),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), True),
        (http.client.RemoteDisconnected("Remote end closed connection"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (EndpointConnectionError(endpoint_url="https://dynamodb"), True),
        (client_error("ThrottlingException", 400), True),
        (client_error("ProvisionedThroughputExceededException", 400), True),
        (client_error("InternalServerError", 500), True),
        (client_error("ConditionalCheckFailedException", 400), False),
        (client_error("AccessDeniedException", 400), False),
        (ValueError("bad input"), False),
    ],
)
def test_transient_errors_are_told_from_permanent_ones(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
