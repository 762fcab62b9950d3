"""The incident's impact as the record states it: the incident window (from the configured lead before the
detection to the end the record looks at) and the error rate's peak over it, read from the service's own metrics.

Which metric is the error rate: the service's ``verify_metrics`` query marked ``error_rate``; when none is, the first
whose name or metric mentions error, fault or 5xx (the runbook's "error rate back under 0.1 %" check); none: n/a.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from functions.models.rollback import IncidentWindow, MetricPeak, MetricQuery
from functions.text import bounded
from functions.transient import describe_error

ERROR_WORDS = re.compile(r"error|fault|5xx", re.IGNORECASE)
MAX_DETAIL = 1000
MAX_POINTS = 1440  # a long window is read at a coarser period (a day at 60 s), never as one datapoint per second

# A query's datapoints in a window with the start of their periods, oldest first: what the metrics adapter reads.
SeriesReader = Callable[[MetricQuery, datetime, datetime], list[tuple[datetime, float]]]


def incident_window(detected_at: datetime, lead_seconds: int, end: datetime) -> IncidentWindow:
    """From ``lead_seconds`` before the detection to ``end`` (never starting after it)."""
    return IncidentWindow(start=min(detected_at - timedelta(seconds=lead_seconds), end), end=end)


def error_rate_query(queries: list[MetricQuery]) -> MetricQuery | None:
    marked = [query for query in queries if query.error_rate]
    if marked:
        return marked[0]
    return next((q for q in queries if ERROR_WORDS.search(q.name) or ERROR_WORDS.search(q.metric)), None)


def peak_period(query: MetricQuery, window: IncidentWindow) -> int:
    """The query's period, made coarser (whole minutes past a minute, as CloudWatch takes them) when the window would
    hold more than :data:`MAX_POINTS` of them."""
    periods = (window.end - window.start).total_seconds() / query.period_seconds
    if periods <= MAX_POINTS:
        return query.period_seconds
    period = query.period_seconds * math.ceil(periods / MAX_POINTS)
    return period if period < 60 else math.ceil(period / 60) * 60


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


def error_rate_peak(query: MetricQuery, read: SeriesReader, window: IncidentWindow) -> MetricPeak:
    """The highest datapoint of ``query`` over ``window`` (the first, if it peaked more than once). A read that
    fails, or finds nothing, leaves the peak unknown and says why: the record is written all the same."""
    span = f"{_clock(window.start)}-{_clock(window.end)} UTC"
    unknown = {"name": query.name, "unit": query.unit, "window": window}
    if window.end <= window.start:
        return MetricPeak(**unknown, detail=f"unknown ({query.name}: the window {span} is empty)")
    query = query.model_copy(update={"period_seconds": peak_period(query, window)})
    try:
        series = read(query, window.start, window.end)
    except Exception as error:  # any failure to read: the impact is unknown, the record still written
        return MetricPeak(**unknown, detail=bounded(f"unknown ({query.name}: {describe_error(error)})", MAX_DETAIL))
    if not series:
        return MetricPeak(**unknown, detail=f"unknown ({query.name}: no datapoints {span})")
    at, value = max(series, key=lambda point: point[1])
    how = f"{query.name}, {query.stat} per {query.period_seconds} s, {span}"
    detail = f"{value:g}{query.unit} at {_clock(at)} UTC ({how})"
    return MetricPeak(**unknown, value=value, at=at, detail=detail)


def peak_text(peak: MetricPeak | None, service: str) -> str:
    if peak is None:
        return f"n/a (no error-rate metric in verify_metrics for {service})"
    return peak.detail
