"""Acquire and release the rollback lock: the service in its environment, and every resource the plan changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.locks import LOCK_ACQUIRED, DynamoDBLockStore
from functions.models.rollback import LockLease, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.settings import LockSettings, load_settings
from functions.steps import step


class LockEvent(BaseModel):
    request: RollbackRequest
    plan: RollbackPlan


class ReleaseEvent(BaseModel):
    """The whole workflow state: on a failure path the lock may never have been taken."""

    state: dict[str, Any]
    execution_arn: str

    @property
    def lease(self) -> LockLease | None:
        raw = self.state.get("lock")
        return LockLease.model_validate(raw) if raw else None


class LockReleased(BaseModel):
    released: bool
    keys: list[str] = []


def _store() -> DynamoDBLockStore:
    return DynamoDBLockStore(client("dynamodb"), load_settings(LockSettings).locks_table_name)


def lock_keys(request: RollbackRequest, plan: RollbackPlan) -> list[str]:
    return [request.service_lock_key, *(change.resource for change in plan.changes)]


@step
def acquire_lock(event: LockEvent) -> LockLease:
    settings = load_settings(LockSettings)
    now = datetime.now(UTC)
    lease = _store().acquire(
        lock_keys(event.request, event.plan),
        event.request.execution_arn,
        now,
        timedelta(seconds=settings.lock_ttl_seconds),
    )
    # Where the clean-up of a stopped or timed-out execution finds what to release.
    AuditLog(client("dynamodb"), settings.audit_table_name).record(
        event.request.rollback_id, LOCK_ACQUIRED, now, {"keys": lease.keys}
    )
    logger.info("lock acquired", extra={"lock_keys": lease.keys})
    return lease


@step
def release_lock(event: ReleaseEvent) -> LockReleased:
    lease = event.lease
    if lease is None:
        return LockReleased(released=False)
    released = _store().release(lease.keys, event.execution_arn)
    logger.info("lock released", extra={"lock_keys": released, "not_held": sorted(set(lease.keys) - set(released))})
    return LockReleased(released=bool(released), keys=released)
