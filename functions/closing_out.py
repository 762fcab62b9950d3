"""Closing out wired to AWS, for the two handlers that write a rollback's report (the workflow's report step and
the clean-up after an execution ended outside it): CloudWatch for the error rate's peak, Logs Insights for the
incident's logs, the records bucket to keep them in, the incidents table (functions/logic/closing.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client, client_with_timeouts
from functions.adapters.incidents import IncidentStore
from functions.adapters.logs_insights import LogsInsights, QueryResults, logs_client
from functions.adapters.metrics import metric_series
from functions.adapters.record_store import prefix_of, record_address, store_logs, store_record
from functions.logic.closing import ClosingFacts, ClosingSources, close_incident, gather_closing_facts
from functions.logic.report import request_of, verification_of
from functions.models.rollback import MetricQuery, RollbackReport
from functions.observability import logger
from functions.settings import ClosingSettings

LOGS_WAIT_SECONDS = 30  # within the report function's timeout (stacks/rollback_stack.py)
CLOSED_INCIDENTS_KEPT_DAYS = 400  # a closed incident, its outcome, RTO and RPO: over a year of post-mortems


def incidents_client() -> Any:
    """Each call gives up in seconds; close_incident tries a transient failure again, three times in all."""
    return client_with_timeouts("dynamodb", connect_seconds=2, read_seconds=5, attempts=1)


def cloudwatch_client() -> Any:
    return client_with_timeouts("cloudwatch", connect_seconds=2, read_seconds=10, attempts=3)


@dataclass(frozen=True)
class RecordKeeper:
    """Closes out and keeps the record of the execution ``execution_name`` (its rollback id)."""

    settings: ClosingSettings
    audit: AuditLog
    records_bucket: str | None
    execution_name: str
    now: datetime

    def facts(self, state: dict[str, Any], events: list[dict[str, Any]]) -> ClosingFacts:
        """The error rate's peak and the kept logs of the rollback in ``state`` (``events``: its audit events);
        none for a rejected input."""
        request = request_of(state)
        if request is None:
            return ClosingFacts(error_rate_peak=None, logs=None)

        def read_series(query: MetricQuery, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
            return metric_series(cloudwatch_client(), query, start, end)

        def run_query(log_groups: list[str], query: str, start: datetime, end: datetime) -> QueryResults:
            return LogsInsights(logs_client()).run(log_groups, query, start, end, LOGS_WAIT_SECONDS)

        bucket, prefix = self.records_bucket, prefix_of(request.service, request.environment, request.rollback_id)
        sources = ClosingSources(
            metrics=self.settings.metrics.get(request.service, []),
            read_series=read_series,
            logs=self.settings.preserve_logs.get(request.service),
            run_query=run_query,
            store_logs=(lambda body: store_logs(client("s3"), bucket, prefix, body)) if bucket else None,
            audit=self.audit,
            lead_seconds=self.settings.incident_lead_seconds,
        )
        facts = gather_closing_facts(request, verification_of(state), events, sources, self.now)
        if facts.logs is not None and facts.logs.url is None:
            logger.warning("incident logs not preserved", extra={"detail": facts.logs.detail})
        if facts.error_rate_peak is not None and facts.error_rate_peak.value is None:
            logger.warning("error rate peak unknown", extra={"detail": facts.error_rate_peak.detail})
        return facts

    def keep(self, state: dict[str, Any], report: RollbackReport) -> RollbackReport:
        """``report`` with its record's address and the incident it closed out, kept in the records bucket."""
        if self.records_bucket:
            report = report.model_copy(update={"record_url": record_address(self.records_bucket, report)})
        request = request_of(state)
        if request is not None and self.settings.incidents_table_name:
            store = IncidentStore(incidents_client(), self.settings.incidents_table_name)
            keep_until = self.now + timedelta(days=CLOSED_INCIDENTS_KEPT_DAYS)
            update = close_incident(
                store, request, report, self.execution_name, sleep=time.sleep, keep_until=keep_until
            )
            if update is not None and not update.updated:
                logger.warning("incident not closed out", extra={"incident": update.key, "detail": update.detail})
            report = report.model_copy(update={"incident": update})
        if self.records_bucket:
            store_record(client("s3"), self.records_bucket, report)
        return report
