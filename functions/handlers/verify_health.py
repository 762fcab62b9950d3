"""Verify the service recovered: its health endpoints answer "healthy"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, field_validator

from functions.adapters.aws import client
from functions.adapters.http_health import probe
from functions.adapters.metrics import metric_values
from functions.adapters.smoke_tests import smoke_check
from functions.logic.verification import metric_checks, verify
from functions.models.rollback import HealthVerification, MetricQuery, RollbackRequest, SmokeCheck
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
    now = datetime.now(UTC)
    queries = settings.metrics.get(parsed.request.service, [])

    def read(queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, list[float]]:
        return metric_values(client("cloudwatch"), queries, start, end)

    smoke_test = settings.smoke_tests.get(parsed.request.environment)

    def smoke(previous: SmokeCheck | None) -> SmokeCheck:
        assert smoke_test is not None
        return smoke_check(client("codebuild"), smoke_test, rollback_id=parsed.request.rollback_id,
                           environment=parsed.request.environment, previous=previous)  # fmt: skip

    result = verify(
        parsed.request.health_urls, parsed.previous, probe, now, timeout, settings.healthy_samples,
        metrics=lambda since: metric_checks(queries, read, since, now), smoke=smoke if smoke_test else None,
    )  # fmt: skip
    logger.info(
        "health verified" if result.healthy else "not healthy yet",
        extra={"attempt": result.attempt, "metrics": [m.model_dump(mode="json") for m in result.metrics]},
    )
    return result
