"""Verify the service recovered: its health endpoints answer "healthy"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, field_validator

from functions.adapters.http_health import probe
from functions.logic.verification import verify
from functions.models.rollback import HealthVerification, RollbackRequest
from functions.observability import logger
from functions.settings import VerificationSettings, load_settings
from functions.steps import step


class VerifyEvent(BaseModel):
    request: RollbackRequest
    previous: HealthVerification | None = None

    @field_validator("previous", mode="before")
    @classmethod
    def _first_attempt(cls, value: Any) -> Any:
        return value or None  # the workflow starts the loop with an empty object


@step
def handler(parsed: VerifyEvent) -> HealthVerification:
    settings = load_settings(VerificationSettings)
    timeout = timedelta(seconds=settings.timeout_seconds)
    result = verify(
        parsed.request.health_urls, parsed.previous, probe, datetime.now(UTC), timeout, settings.healthy_samples
    )
    logger.info("health verified" if result.healthy else "not healthy yet", extra={"attempt": result.attempt})
    return result
