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
    required_samples: int = 1,
) -> HealthVerification:
    """One sample: every endpoint probed. Healthy when ``required_samples`` samples in a row were all healthy (a
    flapping endpoint does not pass on one good answer); unhealthy past ``timeout`` raises ServiceUnhealthy."""
    checks = [probe(url) for url in urls]
    sample_healthy = all(check.healthy for check in checks)
    first_attempt_at = previous.first_attempt_at if previous else now
    attempt = (previous.attempt if previous else 0) + 1
    streak = ((previous.consecutive_healthy if previous else 0) + 1) if sample_healthy else 0
    healthy = streak >= required_samples
    if not healthy and now - first_attempt_at >= timeout:
        failing = "; ".join(f"{c.url}: {c.detail}" for c in checks if not c.healthy) or (
            f"healthy {streak} time(s) in a row of the {required_samples} needed"
        )
        raise ServiceUnhealthy(
            f"still unhealthy after {attempt} checks over {int(timeout.total_seconds())} s: {failing}"
        )
    return HealthVerification(
        healthy=healthy,
        checks=checks,
        attempt=attempt,
        consecutive_healthy=streak,
        first_attempt_at=first_attempt_at,
        verified_at=now if healthy else None,
    )
