"""What CloudWatch Logs does with a function's embedded-metric-format lines: each JSON line with an ``_aws``
``CloudWatchMetrics`` directive becomes datapoints of its namespace, dimensions and metrics. The emulated functions
run in-process, so their standard output is routed per thread (other threads, e.g. the drill printing its
progress, are untouched) and each EMF line is put into moto's CloudWatch."""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO


class _ThreadRouted(io.TextIOBase):
    """``sys.stdout`` while the emulators run functions: what a capturing thread writes goes to its buffer, every
    other write to the standard output it replaced.

    Installed once and never swapped per invocation: ``print`` in CPython 3.11 holds a *borrowed* reference to
    ``sys.stdout``, so a thread that put back the previous stdout while another thread was printing freed the
    object that print was writing to (a crash, or "object has no attribute" from a reused one). Every router made
    stays referenced (:data:`_ROUTERS`) for the same reason."""

    def __init__(self, original: TextIO) -> None:
        self._original = original
        self._captures: dict[int, io.StringIO] = {}

    @property
    def original(self) -> TextIO:
        return self._original

    def capture(self, thread: int) -> io.StringIO:
        captured = self._captures[thread] = io.StringIO()
        return captured

    def release(self, thread: int) -> None:
        self._captures.pop(thread, None)

    def write(self, text: str) -> int:
        captured = self._captures.get(threading.get_ident())
        return (captured if captured is not None else self._original).write(text)

    def flush(self) -> None:
        self._original.flush()


_ROUTERS: list[_ThreadRouted] = []
_INSTALL = threading.Lock()


def _router() -> _ThreadRouted:
    """The router that is ``sys.stdout``, installed over the current stdout if it is not (a test's capture may
    have replaced it since)."""
    with _INSTALL:
        if not isinstance(sys.stdout, _ThreadRouted):
            _ROUTERS.append(_ThreadRouted(sys.stdout))
            sys.stdout = _ROUTERS[-1]
        return sys.stdout


@contextmanager
def metrics_from_output(cloudwatch: Callable[[], Any]) -> Iterator[None]:
    """While open, what this thread prints is read as a function's log: EMF lines become metrics, the rest is
    printed as before."""
    router, thread = _router(), threading.get_ident()
    captured = router.capture(thread)
    try:
        yield
    finally:
        router.release(thread)
        for line in captured.getvalue().splitlines():
            document = _emf(line)
            if document is None:
                router.original.write(line + "\n")
            else:
                put_emf(cloudwatch(), document)


def _emf(line: str) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "CloudWatchMetrics" in document.get("_aws", {}) else None


def put_emf(cloudwatch: Any, document: dict[str, Any]) -> None:
    timestamp = datetime.fromtimestamp(document["_aws"].get("Timestamp", 0) / 1000, tz=UTC)
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive.get("Dimensions", [[]]):
            dimensions = [{"Name": name, "Value": str(document[name])} for name in dimension_set]
            data = []
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    data.append(
                        {"MetricName": metric["Name"], "Dimensions": dimensions, "Timestamp": timestamp,
                         "Value": float(value), "Unit": metric.get("Unit", "None")}
                    )  # fmt: skip
            if data:
                cloudwatch.put_metric_data(Namespace=directive["Namespace"], MetricData=data)
