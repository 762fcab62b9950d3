"""Write the rollback record (every outcome): audit item, notification, and the report as the step's output.
The changes come from the audit trail, where each was recorded as it happened, never from the workflow's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import ChangeLog
from functions.adapters.executions import execution_history
from functions.adapters.notifier import SnsNotifier
from functions.adapters.record_store import store_record
from functions.adapters.recovery_metrics import publish_recovery_metrics
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
    report = build_report(
        outcome=parsed.outcome,
        execution_arn=parsed.execution_arn,
        execution_name=parsed.execution_name,
        state=parsed.state,
        changes=ChangeLog(audit).changes(parsed.execution_name),
        history=timeline_from_history(
            execution_history(client("stepfunctions"), parsed.execution_arn, with_data=False)
        ),
        rto_target_seconds=settings.rto_seconds,
        now=now,
    )
    if settings.records_bucket_name and parsed.outcome != "PLANNED":
        report = report.model_copy(
            update={"record_url": store_record(client("s3"), settings.records_bucket_name, report)}
        )
    if record_report(audit, report, now):  # once per outcome, however often the step runs
        subject, text = notification_text(report)
        SnsNotifier(client("sns"), settings.notifications_topic_arn).publish(subject, text)
        if parsed.outcome != "PLANNED":
            publish_recovery_metrics(report)
    logger.info("rollback recorded", extra={"status": report.status, "rto_seconds": report.rto_seconds})
    return report
