"""Verification: poll the health endpoints until all say healthy, or give up and escalate."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from functions.errors import ServiceUnhealthy
from functions.models.rollback import HealthCheck, HealthVerification, MetricCheck, MetricQuery, SmokeCheck

# The datapoints of each query (by name) in a window: what the metrics adapter reads.
MetricReader = Callable[[list[MetricQuery], datetime, datetime], dict[str, list[float]]]


def window_start(query: MetricQuery, since: datetime, now: datetime) -> datetime:
    """Where ``query``'s window begins: its last ``periods`` periods, but only whole periods after ``since``
    (CloudWatch aggregates by periods aligned on the clock: the period the change fell in mixes before and after)."""
    start = max(since, now - timedelta(seconds=query.period_seconds * query.periods))
    period = query.period_seconds
    return datetime.fromtimestamp(math.ceil(start.timestamp() / period) * period, tz=start.tzinfo)


def metric_checks(queries: list[MetricQuery], read: MetricReader, since: datetime, now: datetime) -> list[MetricCheck]:
    """Each query over its last ``periods`` whole periods after ``since`` (the verification's start: data from
    before the rollback proves nothing). Healthy when there is data and every datapoint is below the threshold."""
    starts = {query.name: window_start(query, since, now) for query in queries}
    ready = [query for query in queries if now - starts[query.name] >= timedelta(seconds=query.period_seconds)]
    values: dict[str, list[float]] = {}
    for query in ready:  # one read per window start (usually one for all)
        if query.name not in values:
            same = [q for q in ready if starts[q.name] == starts[query.name]]
            values.update(read(same, starts[query.name], now))
    checks = []
    for query in queries:
        points = values.get(query.name, [])
        worst = max(points) if points else None
        healthy = worst is not None and worst < query.below
        detail = (
            f"no complete period since {starts[query.name].isoformat(timespec='seconds')} yet"
            if worst is None
            else f"worst of {len(points)} datapoint(s): {worst:g}{query.unit} (must stay below {query.below:g}"
            f"{query.unit})"
        )
        checks.append(
            MetricCheck(
                name=query.name, observed=worst, threshold=query.below, unit=query.unit, healthy=healthy, detail=detail
            )
        )
    return checks


def verify(
    urls: list[str],
    previous: HealthVerification | None,
    probe: Callable[[str], HealthCheck],
    now: datetime,
    timeout: timedelta,
    required_samples: int = 1,
    metrics: Callable[[datetime], list[MetricCheck]] | None = None,
    smoke: Callable[[SmokeCheck | None], SmokeCheck] | None = None,
) -> HealthVerification:
    """One sample: every endpoint probed and every metric read. Healthy when ``required_samples`` samples in a row
    were all healthy (a flapping endpoint does not pass on one good answer); unhealthy past ``timeout`` raises
    ServiceUnhealthy naming each failing check with what was observed and the threshold."""
    checks = [probe(url) for url in urls]
    first_attempt_at = previous.first_attempt_at if previous else now
    measured = metrics(first_attempt_at) if metrics else []
    smoked = smoke(previous.smoke if previous else None) if smoke else None
    if smoked is not None and smoked.status not in ("IN_PROGRESS", "SUCCEEDED"):
        raise ServiceUnhealthy(f"smoke tests {smoked.project} {smoked.status}: {smoked.detail}")
    sample_healthy = (
        all(check.healthy for check in checks)
        and all(m.healthy for m in measured)
        and (smoked is None or smoked.healthy)
    )
    attempt = (previous.attempt if previous else 0) + 1
    streak = ((previous.consecutive_healthy if previous else 0) + 1) if sample_healthy else 0
    healthy = streak >= required_samples
    if not healthy and now - first_attempt_at >= timeout:
        failing = "; ".join(
            [f"{c.url}: {c.detail}" for c in checks if not c.healthy]
            + [f"{m.name}: {m.detail}" for m in measured if not m.healthy]
        ) or (f"healthy {streak} time(s) in a row of the {required_samples} needed")
        raise ServiceUnhealthy(
            f"still unhealthy after {attempt} checks over {int(timeout.total_seconds())} s: {failing}"
        )
    return HealthVerification(
        healthy=healthy,
        checks=checks,
        metrics=measured,
        smoke=smoked,
        attempt=attempt,
        consecutive_healthy=streak,
        first_attempt_at=first_attempt_at,
        verified_at=now if healthy else None,
    )
