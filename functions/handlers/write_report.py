"""Write the rollback record (every outcome): audit item, notification, and the report as the step's output.
The changes come from the audit trail, where each was recorded as it happened, never from the workflow's state.
Once the rollback ended (any outcome but a dry run's plan) the record is closed out: the error rate's peak, the
incident's logs kept beside it, and the incident the alarm opened updated (functions/closing_out.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import latest_changes
from functions.adapters.executions import execution_history
from functions.adapters.notifier import SnsNotifier
from functions.adapters.recovery_metrics import publish_recovery_metrics
from functions.closing_out import RecordKeeper
from functions.logic.closing import ClosingFacts
from functions.logic.report import Outcome, build_report, notification_text, record_report, timeline_from_history
from functions.models.rollback import RollbackReport
from functions.observability import logger
from functions.settings import ReportSettings, load_settings
from functions.steps import step


class ReportEvent(BaseModel):
    outcome: Outcome
    execution_arn: str
    execution_name: str
    state: dict[str, Any]


@step
def handler(parsed: ReportEvent) -> RollbackReport:
    settings = load_settings(ReportSettings)
    now = datetime.now(UTC)
    audit = AuditLog(client("dynamodb"), settings.audit_table_name)
    events = audit.events(parsed.execution_name)
    ended = parsed.outcome != "PLANNED"  # a dry run's plan is returned, not kept
    keeper = RecordKeeper(settings, audit, settings.records_bucket_name, parsed.execution_name, now)
    facts = keeper.facts(parsed.state, events) if ended else ClosingFacts(error_rate_peak=None, logs=None)
    report = build_report(
        outcome=parsed.outcome,
        execution_arn=parsed.execution_arn,
        execution_name=parsed.execution_name,
        state=parsed.state,
        changes=latest_changes(events),
        history=timeline_from_history(
            execution_history(client("stepfunctions"), parsed.execution_arn, with_data=False)
        ),
        rto_target_seconds=settings.rto_seconds,
        now=now,
        error_rate_peak=facts.error_rate_peak,
        logs=facts.logs,
    )
    if ended:
        report = keeper.keep(parsed.state, report)
    if record_report(audit, report, now):  # once per outcome, however often the step runs
        subject, text = notification_text(report)
        SnsNotifier(client("sns"), settings.notifications_topic_arn).publish(subject, text)
        if ended:
            publish_recovery_metrics(report)
    logger.info("rollback recorded", extra={"status": report.status, "rto_seconds": report.rto_seconds})
    return report
