"""boto3 clients, created once per process (Lambda container) and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]
