"""Acquire and release the rollback lock (one rollback per service and environment)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.aws import client
from functions.adapters.locks import DynamoDBLockStore
from functions.models.rollback import RollbackRequest
from functions.observability import logger, tracer
from functions.settings import Tables, lock_ttl_seconds


class LockEvent(BaseModel):
    request: RollbackRequest


class ReleaseEvent(BaseModel):
    """The whole workflow state: on a failure path the request may be missing (input rejected)."""

    state: dict[str, Any]
    execution_arn: str

    @property
    def request(self) -> RollbackRequest | None:
        raw = self.state.get("request")
        return RollbackRequest.model_validate(raw) if raw else None


def _store() -> DynamoDBLockStore:
    return DynamoDBLockStore(client("dynamodb"), Tables.from_env().locks)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def acquire_lock(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = LockEvent.model_validate(event).request
    lease = _store().acquire(
        request.lock_key, request.execution_arn, datetime.now(UTC), timedelta(seconds=lock_ttl_seconds())
    )
    logger.info("lock acquired", extra={"lock_key": lease.key})
    return lease.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def release_lock(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = ReleaseEvent.model_validate(event)
    request = parsed.request
    if request is None:
        return {"released": False}
    released = _store().release(request.lock_key, parsed.execution_arn)
    logger.info("lock released" if released else "lock not held", extra={"lock_key": request.lock_key})
    return {"released": released}
