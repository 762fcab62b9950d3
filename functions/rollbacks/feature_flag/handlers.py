"""Lambda entry points of ``feature_flag``: pre-checks, set one flag, read the flags back, put them back."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.change_log import ChangeLog
from functions.change_steps import change_step
from functions.logic.approvals import require_granted_approval
from functions.models.rollback import ChangeRecord, ChangeStepEvent, PlannedChange, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.rollbacks.feature_flag import execute, plan
from functions.rollbacks.feature_flag.adapters import FlagProvider
from functions.rollbacks.feature_flag.adapters.providers import flag_provider
from functions.rollbacks.feature_flag.config import FeatureFlagSettings
from functions.settings import ChangeStepSettings, load_settings
from functions.steps import step


def provider(request: RollbackRequest) -> FlagProvider:
    configured = load_settings(FeatureFlagSettings).provider_for(request.service, request.environment)
    return flag_provider(configured, client("secretsmanager"), client("ssm"))


class PlanEvent(BaseModel):
    request: RollbackRequest


class CheckEvent(BaseModel):
    request: RollbackRequest
    changes: list[ChangeRecord]


class CheckResult(BaseModel):
    flags: list[str]


class PutBackEvent(BaseModel):
    request: RollbackRequest
    approval_id: str
    changes: list[PlannedChange]


class PutBackResult(BaseModel):
    records: list[ChangeRecord]


@step
def run_prechecks(event: PlanEvent) -> RollbackPlan:
    result = plan.plan_flags(event.request, provider(event.request))
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result


def unanswered_before(event: ChangeStepEvent) -> bool:
    """Did an earlier attempt of this change get no answer (recorded so by the change step before its retry)?"""
    audit = AuditLog(client("dynamodb"), load_settings(ChangeStepSettings).audit_table_name)
    return any(
        item["event"] == "change unconfirmed"
        and item["detail"].get("target") == event.change.target
        and str(item["detail"].get("detail", "")).startswith("no answer")
        for item in audit.events(event.request.rollback_id)
    )


@change_step
def set_flag(event: ChangeStepEvent) -> ChangeRecord:
    retried = unanswered_before(event)
    record = execute.set_flag(event.change, provider(event.request), datetime.now(UTC), unanswered_before=retried)
    logger.info("flag set", extra={"target": record.target, "outcome": record.detail})
    return record


@step
def check_flags(event: CheckEvent) -> CheckResult:
    applied = [record for record in event.changes if record.status == "applied"]
    return CheckResult(flags=execute.check_flags(applied, provider(event.request)))


@step
def put_flags_back(event: PutBackEvent) -> PutBackResult:
    settings = load_settings(ChangeStepSettings)
    dynamodb = client("dynamodb")
    # like every step that changes the world: only under the granted approval of this rollback
    require_granted_approval(ApprovalStore(dynamodb, settings.approvals_table_name), event.approval_id, event.request)
    log = ChangeLog(AuditLog(dynamodb, settings.audit_table_name))
    records = execute.put_back(event.request.rollback_id, event.changes, provider(event.request), log)
    logger.info("flags put back", extra={"records": [r.detail for r in records]})
    return PutBackResult(records=records)
