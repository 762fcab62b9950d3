"""The service's own logs, as Container Insights (Fluent Bit on the cluster) would ship them to CloudWatch Logs: a
JSON line per request each Deployment answers, its status following what the health endpoint says right now (a
broken version logs 500s with the error, a healthy one 200s). The report step's Logs Insights query reads them back
from moto and keeps them with the record, as in AWS.

The log groups are the configured ``preserve_logs`` of the service; they are created here, as the cluster's log
agent would have created them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from local.kube.health_app import HealthApp
from local.periodic import Periodic

STREAM = "skillancer-prod-node-1"


@dataclass
class ServiceLogs:
    health: HealthApp
    logs: Any
    log_groups: list[str]
    deployments: list[str]
    namespace: str = "production"
    every_seconds: float = 0.25

    def __post_init__(self) -> None:
        self._writer = Periodic("service-logs", self.write, self.every_seconds)

    def __enter__(self) -> ServiceLogs:
        for group in self.log_groups:
            self.logs.create_log_group(logGroupName=group)
            self.logs.create_log_stream(logGroupName=group, logStreamName=STREAM)
        if self.log_groups:
            self._writer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.stop()

    def line(self, deployment: str) -> dict[str, Any]:
        status, body = self.health.health(deployment)
        request = {"method": "GET", "path": "/api/v1/jobs", "status": 200 if status == 200 else 500}
        if status != 200:
            request["error"] = body.get("detail", "unhealthy")
        return {
            "log": json.dumps({**request, "version": body.get("version")}),
            "kubernetes": {"namespace_name": self.namespace, "container_name": deployment},
        }

    def write(self) -> None:
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": json.dumps(self.line(name))} for name in self.deployments]
        for group in self.log_groups:
            self.logs.put_log_events(logGroupName=group, logStreamName=STREAM, logEvents=events)
