"""boto3 clients, created once per process (Lambda container) and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config


@cache
def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


@cache
def client_with_timeouts(service: str, *, connect_seconds: float, read_seconds: float, attempts: int) -> Any:
    """A client that gives up in seconds, not botocore's default minutes: a step that calls it more than once must
    finish inside its function's timeout, and the workflow retries what failed transiently."""
    config = Config(
        connect_timeout=connect_seconds,
        read_timeout=read_seconds,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]
