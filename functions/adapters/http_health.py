"""HTTP health probe: GET a health endpoint and decide whether it says "healthy"."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request

from functions.models.rollback import HealthCheck

HEALTHY_WORD = re.compile(r"(?<![a-z])healthy\b", re.IGNORECASE)


def interpret(url: str, status_code: int | None, body: str) -> HealthCheck:
    status: str | None = None
    try:
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("status"), str):
            status = document["status"]
    except ValueError:
        match = HEALTHY_WORD.search(body)
        status = match.group(0).lower() if match else None
    healthy = status_code == 200 and (status or "").lower() == "healthy"
    detail = f"HTTP {status_code}, status {status!r}" if status_code else body
    return HealthCheck(url=url, status_code=status_code, status=status, healthy=healthy, detail=detail)


def probe(url: str, timeout: float = 5.0) -> HealthCheck:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "rollback-verifier"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return interpret(url, response.status, response.read(65536).decode(errors="replace"))
    except urllib.error.HTTPError as error:
        return interpret(url, error.code, error.read(65536).decode(errors="replace"))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return interpret(url, None, f"unreachable: {getattr(error, 'reason', error)}")
    except (http.client.HTTPException, OSError, ValueError) as error:
        # A malformed reply (BadStatusLine, IncompleteRead...) is an unhealthy sample, never a failed step.
        return interpret(url, None, f"bad reply: {type(error).__name__}: {str(error)[:200]}")
