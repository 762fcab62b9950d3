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
    def __init__(self, original: TextIO, thread: int, captured: io.StringIO) -> None:
        self._original, self._thread, self._captured = original, thread, captured

    def write(self, text: str) -> int:
        target = self._captured if threading.get_ident() == self._thread else self._original
        return target.write(text)

    def flush(self) -> None:
        self._original.flush()


@contextmanager
def metrics_from_output(cloudwatch: Callable[[], Any]) -> Iterator[None]:
    """While open, what this thread prints is read as a function's log: EMF lines become metrics, the rest is
    printed as before."""
    original, captured = sys.stdout, io.StringIO()
    sys.stdout = _ThreadRouted(original, threading.get_ident(), captured)
    try:
        yield
    finally:
        sys.stdout = original
        for line in captured.getvalue().splitlines():
            document = _emf(line)
            if document is None:
                original.write(line + "\n")
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
