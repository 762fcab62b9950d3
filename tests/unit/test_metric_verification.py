"""Verification by metrics (runbook "Rollback Verification"): each poll reads the service's metrics since the
verification began; a rollback is verified when health and metrics were all good for the required polls in a row,
and fails at the deadline naming each failing check with what was observed and its threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.errors import ServiceUnhealthy
from functions.logic.verification import metric_checks, verify
from functions.models.rollback import HealthCheck, HealthVerification, MetricQuery

T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
ERRORS = MetricQuery(name="API error rate", namespace="Skillancer/API", metric="5xxRate", below=0.1, unit="%")
LATENCY = MetricQuery(name="API p95 latency", namespace="Skillancer/API", metric="Latency", stat="p95", below=200,
                      unit="ms")  # fmt: skip
# Polled every 10 s, each poll sees one new whole 10-second period
EVERY_POLL = {"period_seconds": 10, "periods": 1}


def healthy_endpoint(url: str) -> HealthCheck:
    return HealthCheck(url=url, status_code=200, status="healthy", healthy=True, detail="HTTP 200")


class RecoveringService:
    """Errors and latency that recover after ``bad_polls`` polls."""

    def __init__(self, bad_polls: int) -> None:
        self.bad_polls, self.polls, self.windows = bad_polls, 0, []  # type: list[tuple[datetime, datetime]]

    def read(self, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        self.polls += 1
        self.windows.append((start, end))
        bad = self.polls <= self.bad_polls
        return {"API error rate": [4.2 if bad else 0.03], "API p95 latency": [640.0 if bad else 150.0]}


def poll_until_done(service: RecoveringService, samples: int, polls: int) -> HealthVerification:
    result: HealthVerification | None = None
    for n in range(polls):
        now = T0 + timedelta(seconds=10 * n)
        result = verify(
            ["https://api/health"], result, healthy_endpoint, now, timedelta(minutes=5), samples,
            metrics=lambda since, now=now: metric_checks(
                [ERRORS.model_copy(update=EVERY_POLL), LATENCY.model_copy(update=EVERY_POLL)], service.read, since, now
            ),
        )  # fmt: skip
        if result.healthy:
            return result
    raise AssertionError("never verified")


def test_metrics_that_recover_after_two_polls_verify_on_the_third() -> None:
    # Given a service whose metrics are bad for two polls, and one good poll required
    service = RecoveringService(bad_polls=2)
    # When verification polls
    result = poll_until_done(service, samples=1, polls=10)
    # Then the third poll that had a whole period to read verifies it (the first had none yet), values kept
    assert (service.polls, result.attempt) == (3, 4)
    assert [(m.name, m.observed, m.healthy) for m in result.metrics] == [
        ("API error rate", 0.03, True),
        ("API p95 latency", 150.0, True),
    ]
    # And no poll looked at data from before the verification began
    assert all(start >= T0 for start, _ in service.windows)


def test_good_polls_must_come_in_a_row() -> None:
    service = RecoveringService(bad_polls=2)
    poll_until_done(service, samples=3, polls=10)
    assert service.polls == 5


def test_metrics_that_never_recover_fail_at_the_deadline_naming_each_check() -> None:
    service = RecoveringService(bad_polls=1000)
    with pytest.raises(ServiceUnhealthy) as failure:
        poll_until_done(service, samples=1, polls=40)
    message = str(failure.value)
    assert "API error rate: worst of 1 datapoint(s): 4.2% (must stay below 0.1%)" in message
    assert "API p95 latency: worst of 1 datapoint(s): 640ms (must stay below 200ms)" in message


def test_no_datapoint_yet_is_not_healthy() -> None:
    checks = metric_checks([ERRORS], lambda queries, start, end: {}, T0, T0 + timedelta(seconds=5))
    assert [(c.healthy, c.observed) for c in checks] == [(False, None)]
    assert "no complete period since" in checks[0].detail


def test_a_window_holds_only_whole_periods_after_the_change() -> None:
    windows: list[datetime] = []

    def read(queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        windows.append(start)
        return {"API error rate": [0.01]}

    # Given a change 10 s into a minute: that minute mixes before and after, so the window starts at the next one
    change = T0 + timedelta(seconds=10)
    assert not metric_checks([ERRORS], read, change, change + timedelta(seconds=55))[0].healthy  # no whole minute
    assert metric_checks([ERRORS], read, change, change + timedelta(seconds=115))[0].healthy
    assert windows == [T0 + timedelta(minutes=1)]
    # And an hour later only the last three periods count
    metric_checks([ERRORS], read, change, T0 + timedelta(hours=1))
    assert windows[-1] == T0 + timedelta(hours=1) - timedelta(minutes=3)
