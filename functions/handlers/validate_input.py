"""First state: validate the workflow input. Bad input fails here, naming the field, before anything changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.logic.validation import validate_kubernetes_app_input
from functions.models.rollback import ApprovalWindow
from functions.observability import logger, tracer
from functions.settings import VerificationSettings, approval_window, configured_approvers


class ValidateInputEvent(BaseModel):
    input: Any
    execution_arn: str
    execution_name: str
    started_at: datetime


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = ValidateInputEvent.model_validate(event)
    request = validate_kubernetes_app_input(
        parsed.input,
        execution_arn=parsed.execution_arn,
        execution_name=parsed.execution_name,
        started_at=parsed.started_at,
        configured_health_urls=VerificationSettings.from_env().health_urls,
        approvers=configured_approvers(),
        approval_window=ApprovalWindow.model_validate(approval_window()),
    )
    logger.info("rollback requested", extra={"rollback_id": request.rollback_id, "service": request.service})
    return request.model_dump(mode="json")
