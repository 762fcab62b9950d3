"""Verify the service recovered: its health endpoints answer "healthy"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, field_validator

from functions.adapters.http_health import probe
from functions.logic.verification import verify
from functions.models.rollback import HealthVerification, RollbackRequest
from functions.observability import logger, tracer
from functions.settings import VerificationSettings


class VerifyEvent(BaseModel):
    request: RollbackRequest
    previous: HealthVerification | None = None

    @field_validator("previous", mode="before")
    @classmethod
    def _first_attempt(cls, value: Any) -> Any:
        return value or None  # the workflow starts the loop with an empty object


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = VerifyEvent.model_validate(event)
    timeout = timedelta(seconds=VerificationSettings.from_env().timeout_seconds)
    result = verify(parsed.request.health_urls, parsed.previous, probe, datetime.now(UTC), timeout)
    logger.info("health verified" if result.healthy else "not healthy yet", extra={"attempt": result.attempt})
    return result.model_dump(mode="json")
