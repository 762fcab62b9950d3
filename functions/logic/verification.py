"""Verification: poll the health endpoints until all say healthy, or give up and escalate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from functions.errors import ServiceUnhealthy
from functions.models.rollback import HealthCheck, HealthVerification


def verify(
    urls: list[str],
    previous: HealthVerification | None,
    probe: Callable[[str], HealthCheck],
    now: datetime,
    timeout: timedelta,
) -> HealthVerification:
    checks = [probe(url) for url in urls]
    healthy = all(check.healthy for check in checks)
    first_attempt_at = previous.first_attempt_at if previous else now
    attempt = (previous.attempt if previous else 0) + 1
    if not healthy and now - first_attempt_at >= timeout:
        failing = "; ".join(f"{c.url}: {c.detail}" for c in checks if not c.healthy)
        raise ServiceUnhealthy(
            f"still unhealthy after {attempt} checks over {int(timeout.total_seconds())} s: {failing}"
        )
    return HealthVerification(
        healthy=healthy,
        checks=checks,
        attempt=attempt,
        first_attempt_at=first_attempt_at,
        verified_at=now if healthy else None,
    )
