"""The entry point of a step that carries out one approved change: what makes every rollback type's changes
approved, recorded and safe to run twice, written once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import ChangeLog
from functions.logic.approvals import require_granted_approval
from functions.models.rollback import ChangeRecord, ChangeStepEvent
from functions.observability import logger
from functions.settings import ChangeStepSettings, load_settings
from functions.steps import LambdaHandler, entry_point, event_model_of
from functions.transient import is_transient


def change_step(function: Callable[[Any], Any]) -> LambdaHandler:
    """A step that carries out one approved change (its event is a ``ChangeStepEvent``): it re-checks the
    approval record before anything else, records the change in the audit trail before it is made, and records how
    it ended (applied, skipped, or failed with the error), so that no report can miss a change. Run again for a
    change that was made, it returns the recorded outcome and changes nothing."""
    event_model = event_model_of(function)
    if not issubclass(event_model, ChangeStepEvent):
        raise TypeError(f"{function.__name__}: a change step takes a ChangeStepEvent")

    @wraps(function)
    def carry_out(event: ChangeStepEvent) -> ChangeRecord:
        settings = load_settings(ChangeStepSettings)
        dynamodb = client("dynamodb")
        require_granted_approval(
            ApprovalStore(dynamodb, settings.approvals_table_name), event.approval_id, event.request
        )
        changes = ChangeLog(AuditLog(dynamodb, settings.audit_table_name))
        rollback_id = event.request.rollback_id
        done = changes.outcome(rollback_id, event.change.target)
        if done is not None:  # run again (a retry): the change was made; making it again would be a new change
            logger.info("change already made", extra={"target": done.target, "status": done.status})
            return done
        changes.started(rollback_id, event.change, datetime.now(UTC))
        try:
            record: ChangeRecord = function(event)
        except Exception as error:
            if is_transient(error):  # no answer: the change may have reached the world; a retry reads it back
                detail = f"no answer ({type(error).__name__}: {error}); it may have been made"
                changes.started(rollback_id, event.change, datetime.now(UTC), detail=detail)
            else:
                changes.failed(rollback_id, event.change, f"{type(error).__name__}: {error}", datetime.now(UTC))
            raise
        changes.finished(rollback_id, record, datetime.now(UTC))
        return record

    return entry_point(carry_out, event_model)
