"""A function's output read as CloudWatch Logs reads it (local/aws/emf.py): its embedded-metric-format lines become
metrics, its other lines are printed, and other threads print as before. ``sys.stdout`` is never put back after an
invocation: CPython 3.11's ``print`` holds a borrowed reference to it, and a drill printing while a function ended
used to crash (segmentation fault, or "'_ThreadRouted' object has no attribute '_original'")."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from local.aws.emf import metrics_from_output


@dataclass
class RecordingCloudWatch:
    """Stands in for moto's CloudWatch: the metric data it was given."""

    put: list[dict[str, Any]] = field(default_factory=list)

    def put_metric_data(self, **request: Any) -> None:
        self.put.append(request)


EMF = {
    "_aws": {"Timestamp": 1796040000000, "CloudWatchMetrics": [
        {"Namespace": "rollback-pipeline", "Dimensions": [["service"]], "Metrics": [{"Name": "RTOSeconds"}]}
    ]},
    "service": "skillancer",
    "RTOSeconds": 42.0,
}  # fmt: skip


def invoke(
    cloudwatch: RecordingCloudWatch, printing: threading.Event, printed: threading.Event, stdouts: list[Any]
) -> None:
    """A function's run: it prints an EMF line and a plain one, while the main thread prints too."""
    with metrics_from_output(lambda: cloudwatch):
        stdouts.append(sys.stdout)
        print(json.dumps(EMF))
        printing.set()
        printed.wait(timeout=5)
        print("rollback recorded")


def test_function_output_becomes_metrics_and_stdout_stays_the_same_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cloudwatch = RecordingCloudWatch()
    stdouts: list[Any] = []  # what sys.stdout was while each function ran
    for _ in range(2):
        # Given a function running in its own thread, When the main thread prints while the function runs
        printing, printed = threading.Event(), threading.Event()
        worker = threading.Thread(target=invoke, args=(cloudwatch, printing, printed, stdouts))
        worker.start()
        assert printing.wait(timeout=5)
        print("drill progress")
        printed.set()
        worker.join(timeout=5)
    # Then each EMF line became metric data, the other lines were printed, the drill's among them
    assert [request["MetricData"][0]["Value"] for request in cloudwatch.put] == [42.0, 42.0]
    assert cloudwatch.put[0]["Namespace"] == "rollback-pipeline"
    assert capsys.readouterr().out.splitlines() == ["drill progress", "rollback recorded"] * 2
    # And sys.stdout was the same router for both invocations, and still is: never put back, never replaced
    assert stdouts[0] is stdouts[1] is sys.stdout
