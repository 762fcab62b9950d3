"""The service's own CloudWatch metrics, as its load balancer and application would publish them: skillancer-api's
error rate and latency, measured from what its health endpoint says right now (a broken version errs and is slow,
a healthy one is not). Verification reads them back with ``GetMetricData``, as in AWS.

``hold(error_rate=..., latency_ms=...)`` pins the values whatever the service says (a rollback that does not fix
the metrics), ``release()`` lets them follow the service again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.kube.health_app import HealthApp
from local.periodic import Periodic

NAMESPACE = "Skillancer/API"
SERVICE = "skillancer-api"
HEALTHY = (0.02, 120.0)  # % of 5xx, ms at p95
BROKEN = (31.5, 850.0)


@dataclass
class ServiceMetrics:
    health: HealthApp
    cloudwatch: Any
    every_seconds: float = 0.05

    def __post_init__(self) -> None:
        self._held: tuple[float, float] | None = None
        self._publisher = Periodic("service-metrics", self.publish, self.every_seconds)

    def __enter__(self) -> ServiceMetrics:
        self._publisher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._publisher.stop()

    def hold(self, error_rate: float, latency_ms: float) -> None:
        self._held = (error_rate, latency_ms)

    def release(self) -> None:
        self._held = None

    def current(self) -> tuple[float, float]:
        if self._held is not None:
            return self._held
        status, _ = self.health.health(SERVICE)
        return HEALTHY if status == 200 else BROKEN

    def publish(self) -> None:
        error_rate, latency = self.current()
        now = datetime.now(UTC)
        dimensions = [{"Name": "Service", "Value": SERVICE}]
        self.cloudwatch.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {"MetricName": "5xxRate", "Dimensions": dimensions, "Timestamp": now, "Value": error_rate,
                 "Unit": "Percent", "StorageResolution": 1},
                {"MetricName": "Latency", "Dimensions": dimensions, "Timestamp": now, "Value": latency,
                 "Unit": "Milliseconds", "StorageResolution": 1},
            ],
        )  # fmt: skip
