"""EventBridge "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED) of a rollback workflow ->
close its approval request, release its locks, record (closed out and kept) and announce how it ended (see
logic/cleanup.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.executions import execution_history
from functions.adapters.locks import DynamoDBLockStore
from functions.adapters.notifier import SnsNotifier
from functions.closing_out import RecordKeeper
from functions.logic.cleanup import CleanedUp, ExecutionEnded, clean_up
from functions.observability import logger
from functions.settings import CleanupSettings, load_settings
from functions.steps import step


class StatusChangeEvent(BaseModel):
    detail: ExecutionEnded


@step
def handler(event: StatusChangeEvent) -> CleanedUp:
    settings = load_settings(CleanupSettings)
    dynamodb = client("dynamodb")
    notifier = SnsNotifier(client("sns"), settings.notifications_topic_arn)

    def notify(subject: str, message: str) -> None:
        notifier.publish(subject, message)

    now = datetime.now(UTC)
    audit = AuditLog(dynamodb, settings.audit_table_name)
    result = clean_up(
        event.detail,
        execution_history(client("stepfunctions"), event.detail.executionArn, with_data=True),
        approvals=ApprovalStore(dynamodb, settings.approvals_table_name),
        locks=DynamoDBLockStore(dynamodb, settings.locks_table_name),
        audit=audit,
        notify=notify,
        rto_target_seconds=settings.rto_seconds,
        now=now,
        keeper=RecordKeeper(settings, audit, settings.records_bucket_name, event.detail.name, now),
    )
    logger.info("ended execution cleaned up", extra=result.model_dump())
    return result
