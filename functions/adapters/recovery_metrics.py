"""The RTO and RPO a rollback achieved, as CloudWatch metrics in the embedded metric format (Powertools Metrics:
one JSON line in the function's log, which CloudWatch turns into metrics, no API call on the rollback's path)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.models.rollback import RollbackReport


def publish_recovery_metrics(report: RollbackReport) -> None:
    """``Rollbacks`` (1, by outcome), ``RTOSeconds`` and ``RTOMissed`` once recovered, ``RPOSeconds`` when the
    rollback lost data or proved it lost none; dimensions service, environment and rollback type."""
    metrics = Metrics()
    metrics.add_dimension("service", report.service)
    metrics.add_dimension("environment", report.environment)
    metrics.add_dimension("rollback_type", report.rollback_type or "unknown")
    metrics.add_metric(f"Rollbacks{report.status.title().replace('_', '')}", MetricUnit.Count, 1)
    if report.rto_seconds is not None:
        metrics.add_metric("RTOSeconds", MetricUnit.Seconds, report.rto_seconds)
        metrics.add_metric("RTOMissed", MetricUnit.Count, 0 if report.rto_met else 1)
    if report.rpo_seconds is not None:
        metrics.add_metric("RPOSeconds", MetricUnit.Seconds, report.rpo_seconds)
    metrics.flush_metrics()
