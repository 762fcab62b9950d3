"""Write the rollback record (every outcome): audit item, notification, and the report as the step's output.
The changes come from the audit trail, where each was recorded as it happened, never from the workflow's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import ChangeLog
from functions.adapters.notifier import SnsNotifier
from functions.logic.report import Outcome, build_report, notification_text, timeline_from_history
from functions.models.rollback import RollbackReport
from functions.observability import logger
from functions.settings import ReportSettings, load_settings
from functions.steps import step


class ReportEvent(BaseModel):
    outcome: Outcome
    execution_arn: str
    execution_name: str
    state: dict[str, Any]


def _history(execution_arn: str) -> list[dict[str, Any]]:
    paginator = client("stepfunctions").get_paginator("get_execution_history")
    events: list[dict[str, Any]] = []
    for page in paginator.paginate(executionArn=execution_arn, includeExecutionData=False):
        events.extend(page["events"])
    return events


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
        history=timeline_from_history(_history(parsed.execution_arn)),
        rto_target_seconds=settings.rto_seconds,
        now=now,
    )
    body = report.model_dump(mode="json")
    # One report per outcome: run again (a retry), it neither records nor announces a second one.
    if audit.record_once(report.rollback_id, f"report#{report.status}", "rollback report", now, body):
        subject, text = notification_text(report)
        SnsNotifier(client("sns"), settings.notifications_topic_arn).publish(subject, text)
    logger.info("rollback recorded", extra={"status": report.status, "rto_seconds": report.rto_seconds})
    return report
