"""First state: validate the workflow input. Bad input fails here, naming the field, before anything changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from functions.logic.validation import validate_input
from functions.models.rollback import ApprovalWindow, RollbackRequest
from functions.observability import logger
from functions.rollbacks.registry import rollback_type
from functions.settings import ValidationSettings, load_settings
from functions.steps import step


class ValidateInputEvent(BaseModel):
    input: Any
    rollback_type: str
    execution_arn: str
    execution_name: str
    started_at: datetime


@step
def handler(event: ValidateInputEvent) -> RollbackRequest:
    settings = load_settings(ValidationSettings)
    request = validate_input(
        event.input,
        rollback_type=rollback_type(event.rollback_type),
        execution_arn=event.execution_arn,
        execution_name=event.execution_name,
        started_at=event.started_at,
        configured_health_urls=settings.health_urls,
        approvers=settings.approvers,
        approval_window=ApprovalWindow.model_validate(settings.approval_window()),
    )
    logger.info("rollback requested", extra={"rollback_id": request.rollback_id, "service": request.service})
    return request
