"""The one shape of a workflow step's entry point: parse the event into the step's model, call the step, dump
its result as JSON, with Powertools' Lambda context in the logs and a trace segment.

    @step
    def plan(event: PlanEvent) -> RollbackPlan: ...

    @change_step  (functions/change_steps.py: a step that changes the world)
    def roll_back_deployment(event: ChangeStepEvent) -> ChangeRecord: ...

The event model comes from the annotation of the step's only parameter. Events are never logged (some carry
task tokens) and results are not attached to traces. An error's message is bounded before it reaches the
workflow's state (the whole text is logged): Step Functions' payloads are limited and an oversized one cannot be
caught.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, get_type_hints

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.errors import RollbackError, TransientError
from functions.observability import logger, tracer
from functions.text import bounded
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
    logger.error("step failed (whole message)", extra={"error": type(error).__name__, "whole_message": text})
    error.args = (bounded(text, MAX_ERROR_MESSAGE),)
    for attribute in ("body", "reason"):  # e.g. an HTTP client's exception renders its response body
        value = getattr(error, attribute, None)
        if isinstance(value, str | bytes) and len(value) > MAX_ERROR_MESSAGE // 2:
            setattr(error, attribute, value[: MAX_ERROR_MESSAGE // 2])


def event_model_of(function: Callable[..., Any]) -> type[BaseModel]:
    hints = get_type_hints(function)
    hints.pop("return", None)
    (event_model,) = hints.values()
    return event_model


def entry_point(function: Callable[[Any], Any], event_model: type[BaseModel]) -> LambdaHandler:
    @wraps(function)
    def handler(event: dict[str, Any], context: LambdaContext) -> Any:
        parsed = event_model.model_validate(event)
        try:
            return _jsonable(function(parsed))
        except Exception as error:
            _bounded(error)
            if not isinstance(error, RollbackError) and is_transient(error):  # retried by the workflow
                raise TransientError(f"{type(error).__name__}: {error}") from error
            raise

    traced: LambdaHandler = tracer.capture_lambda_handler(capture_response=False)(handler)
    return logger.inject_lambda_context(log_event=False)(traced)


def step(function: Callable[[EventT], Any]) -> LambdaHandler:
    return entry_point(function, event_model_of(function))
