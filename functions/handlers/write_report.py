"""Write the rollback record (every outcome): audit item, notification, and the report as the step's output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.notifier import SnsNotifier
from functions.logic.report import Outcome, build_report, notification_text, timeline_from_history
from functions.observability import logger, tracer
from functions.settings import Tables, notifications_topic_arn, rto_seconds


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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = ReportEvent.model_validate(event)
    now = datetime.now(UTC)
    report = build_report(
        outcome=parsed.outcome,
        execution_arn=parsed.execution_arn,
        execution_name=parsed.execution_name,
        state=parsed.state,
        history=timeline_from_history(_history(parsed.execution_arn)),
        rto_target_seconds=rto_seconds(),
        now=now,
    )
    body = report.model_dump(mode="json")
    AuditLog(client("dynamodb"), Tables.from_env().audit).record(report.rollback_id, "rollback report", now, body)
    subject, text = notification_text(report)
    SnsNotifier(client("sns"), notifications_topic_arn()).publish(subject, text)
    logger.info("rollback recorded", extra={"status": report.status, "rto_seconds": report.rto_seconds})
    return body
