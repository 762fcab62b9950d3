"""CloudWatch metrics read for verification (one ``GetMetricData`` call for every query of a sample) and for the
record (one query's datapoints over the incident window, with their times)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.models.rollback import MetricQuery


def metric_values(
    cloudwatch: Any, queries: list[MetricQuery], start: datetime, end: datetime
) -> dict[str, list[float]]:
    """The datapoints of each query (by name) between ``start`` and ``end``, oldest first."""
    if not queries:
        return {}
    ids = {f"m{index}": query for index, query in enumerate(queries)}
    values: dict[str, list[float]] = {query.name: [] for query in queries}
    for result in _results(cloudwatch, ids, start, end):
        values[ids[result["Id"]].name].extend(float(v) for v in result.get("Values", []) if v is not None)
    return values


def metric_series(cloudwatch: Any, query: MetricQuery, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """``query``'s datapoints between ``start`` and ``end`` with the start of their periods, oldest first."""
    series: list[tuple[datetime, float]] = []
    for result in _results(cloudwatch, {"m0": query}, start, end):
        series.extend(
            (at, float(value))
            for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            if value is not None
        )
    return sorted(series)


def _results(cloudwatch: Any, ids: dict[str, MetricQuery], start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    request = [
        {
            "Id": key,
            "MetricStat": {
                "Metric": {
                    "Namespace": query.namespace,
                    "MetricName": query.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(query.dimensions.items())],
                },
                "Period": query.period_seconds,
                "Stat": query.stat,
            },
            "ReturnData": True,
        }
        for key, query in ids.items()
    ]
    token: str | None = None
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending",
            **({"NextToken": token} if token else {}),
        )  # fmt: skip
        yield from page.get("MetricDataResults", [])
        token = page.get("NextToken")
        if not token:
            return
