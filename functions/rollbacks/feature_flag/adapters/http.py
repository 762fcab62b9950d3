"""JSON over HTTPS for the flag providers: urllib3 with timeouts; reads retried on 5xx and 429 here, writes never
(the workflow retries the step, which reads the flag back before writing again); 5xx and 429 that persist are
transient errors (``functions.transient``), other 4xx are refusals."""

from __future__ import annotations

import json
from typing import Any

import urllib3
from urllib3.util import Retry

from functions.rollbacks.feature_flag.adapters import FlagProviderRefused, ProviderUnavailable

TIMEOUT = urllib3.Timeout(connect=3.0, read=8.0)
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
_pool = urllib3.PoolManager(
    timeout=TIMEOUT,
    retries=Retry(
        total=2,
        backoff_factor=0.2,
        status_forcelist=TRANSIENT_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
        respect_retry_after_header=False,
    ),
)


class JsonResponse:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def call(method: str, url: str, token: str, *, fields: dict[str, str] | None = None, body: Any = None) -> JsonResponse:
    """One call; 2xx and 404 are returned, 5xx/429 raise :class:`ProviderUnavailable`, other statuses
    :class:`FlagProviderRefused`."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    response = _pool.request(
        method, url, fields=fields, body=data, headers=headers, retries=None if method == "GET" else False
    )
    text = response.data.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    where = url.split("?", 1)[0]
    if response.status >= 500 or response.status == 429:
        raise ProviderUnavailable(f"{method} {where} answered {response.status}: {text[:300]}", response.status)
    if response.status >= 400 and response.status != 404:
        raise FlagProviderRefused(f"{method} {where} answered {response.status}: {text[:300]}")
    return JsonResponse(response.status, parsed)
