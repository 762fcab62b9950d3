"""The one shape of a workflow step's entry point: parse the event into the step's model, call the step, dump
its result as JSON, with Powertools' Lambda context in the logs and a trace segment.

    @step
    def plan(event: PlanEvent) -> RollbackPlan: ...

    @change_step
    def roll_back_deployment(event: ChangeStepEvent) -> ChangeRecord: ...

The event model comes from the annotation of the step's only parameter. Events are never logged (some carry
task tokens) and results are not attached to traces. An error's message is bounded before it reaches the
workflow's state (the whole text is logged): Step Functions' payloads are limited and an oversized one cannot be
caught.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, get_type_hints

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import ChangeLog
from functions.errors import RollbackError, TransientError
from functions.logic.approvals import require_granted_approval
from functions.models.rollback import ChangeRecord, ChangeStepEvent
from functions.observability import logger, tracer
from functions.settings import ChangeStepSettings, load_settings
from functions.transient import is_transient

EventT = TypeVar("EventT", bound=BaseModel)
LambdaHandler = Callable[[dict[str, Any], LambdaContext], Any]
MAX_ERROR_MESSAGE = 4000


def _jsonable(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def _bounded(error: Exception) -> None:
    """Shorten an error's message in place (its class, which the ASL matches, stays)."""
    text = str(error)
    if len(text) <= MAX_ERROR_MESSAGE:
        return
    logger.error("step failed (whole message)", extra={"error": type(error).__name__, "message": text})
    error.args = (text[: MAX_ERROR_MESSAGE - 40] + f"... [{len(text)} characters, see the logs]",)
    for attribute in ("body", "reason"):  # e.g. an HTTP client's exception renders its response body
        value = getattr(error, attribute, None)
        if isinstance(value, str | bytes) and len(value) > MAX_ERROR_MESSAGE // 2:
            setattr(error, attribute, value[: MAX_ERROR_MESSAGE // 2])


def _event_model(function: Callable[..., Any]) -> type[BaseModel]:
    hints = get_type_hints(function)
    hints.pop("return", None)
    (event_model,) = hints.values()
    return event_model


def _entry_point(function: Callable[[Any], Any], event_model: type[BaseModel]) -> LambdaHandler:
    @wraps(function)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        parsed = event_model.model_validate(event)
        try:
            return _jsonable(function(parsed))
        except RollbackError as error:
            _bounded(error)
            raise
        except Exception as error:
            _bounded(error)
            if is_transient(error):  # retried by the workflow (with backoff and jitter); the cause is kept
                raise TransientError(f"{type(error).__name__}: {error}") from error
            raise

    traced: LambdaHandler = tracer.capture_lambda_handler(capture_response=False)(handler)
    return logger.inject_lambda_context(log_event=False)(traced)


def step(function: Callable[[EventT], Any]) -> LambdaHandler:
    return _entry_point(function, _event_model(function))


def change_step(function: Callable[[Any], Any]) -> LambdaHandler:
    """A step that carries out one approved change (its event is a ``ChangeStepEvent``): it re-checks the
    approval record before anything else, records the change in the audit trail before it is made, and records how
    it ended (applied, skipped, or failed with the error), so that no report can miss a change. Run again for a
    change that was made, it returns the recorded outcome and changes nothing."""
    event_model = _event_model(function)
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

    return _entry_point(carry_out, event_model)
