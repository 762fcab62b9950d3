"""Faults injected into a boto3 client's calls, answered as AWS would answer them: botocore parses the injected
answer as it parses a real one (the modeled exception, its code and HTTP status), so the code under test sees what
it would see from AWS. The call never reaches moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse


@dataclass
class Injected:
    """Answers the next ``times`` calls of the operation (None: every call) with ``status`` and ``parsed``."""

    status: int
    parsed: dict[str, Any]
    times: int | None
    calls: int = 0  # calls answered with the fault
    passed: int = 0  # calls let through to the emulator
    only_if: dict[str, Any] = field(default_factory=dict)  # the fault applies to calls with these parameters

    def answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body") or b"{}"  # the serialized request (JSON protocols: DynamoDB, Logs)
        sent = json.loads(body) if isinstance(body, bytes | str) and body else {}
        if any(sent.get(key) != value for key, value in self.only_if.items()) or (
            self.times is not None and self.calls >= self.times
        ):
            self.passed += 1
            return None
        self.calls += 1
        http = AWSResponse("https://injected.invalid/", self.status, {}, None)
        return http, {**self.parsed, "ResponseMetadata": {"HTTPStatusCode": self.status}}


@contextmanager
def answering(
    client: Any,
    operation: str,
    *,
    status: int = 200,
    parsed: dict[str, Any] | None = None,
    error: str | None = None,
    message: str = "",
    times: int | None = None,
    only_if: dict[str, Any] | None = None,
) -> Iterator[Injected]:
    """While open, ``operation`` of ``client`` is answered ``parsed`` (a success) or the error ``error`` (an HTTP
    ``status`` of 400 unless given), ``times`` times (None: always), for calls whose parameters match ``only_if``
    (JSON-protocol services)."""
    if error is not None:
        parsed = {"Error": {"Code": error, "Message": message}}
        status = status if status >= 300 else 400
    injected = Injected(status, parsed or {}, times, only_if=dict(only_if or {}))
    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, injected.answer)
    try:
        yield injected
    finally:
        client.meta.events.unregister(event, injected.answer)
