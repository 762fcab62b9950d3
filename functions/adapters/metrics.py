"""CloudWatch metrics read for verification: one ``GetMetricData`` call for every query of a sample."""

from __future__ import annotations

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
    values: dict[str, list[float]] = {query.name: [] for query in queries}
    token: str | None = None
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending",
            **({"NextToken": token} if token else {}),
        )  # fmt: skip
        for result in page.get("MetricDataResults", []):
            values[ids[result["Id"]].name].extend(float(v) for v in result.get("Values", []) if v is not None)
        token = page.get("NextToken")
        if not token:
            return values
