"""Lambda entry points of ``edge``: pre-checks, change the distribution, follow it until Deployed, change the
record, follow it until INSYNC, check the maintenance page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from functions.adapters.aws import client
from functions.change_steps import change_step
from functions.models.rollback import ChangeRecord, ChangeStepEvent, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.rollbacks.edge import execute, plan
from functions.rollbacks.edge.config import EdgeSettings, EdgeSite
from functions.rollbacks.edge.input import EdgeTarget
from functions.settings import load_settings
from functions.steps import step


def site() -> EdgeSite:
    return load_settings(EdgeSettings).edge_site


class PlanEvent(BaseModel):
    request: RollbackRequest


class CheckEvent(BaseModel):
    record: ChangeRecord


class PageEvent(BaseModel):
    request: RollbackRequest


@step
def run_prechecks(event: PlanEvent) -> RollbackPlan:
    result = plan.plan_edge(event.request, site(), client("route53"), client("cloudfront"), client("s3"))
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result


@change_step
def change_distribution(event: ChangeStepEvent) -> ChangeRecord:
    record = execute.change_distribution(
        event.change, site(), client("cloudfront"), client("s3"), event.request.rollback_id, datetime.now(UTC)
    )
    logger.info("distribution changed", extra={"outcome": record.detail})
    return record


@step
def check_distribution(event: CheckEvent) -> dict[str, Any]:
    return execute.distribution_deployed(client("cloudfront"), site())


@change_step
def change_record(event: ChangeStepEvent) -> ChangeRecord:
    record = execute.change_record(event.change, site(), client("route53"), datetime.now(UTC))
    logger.info("record changed", extra={"outcome": record.detail})
    return record


@step
def check_record_change(event: CheckEvent) -> dict[str, Any]:
    return execute.record_in_sync(client("route53"), event.record)


@step
def check_maintenance_page(event: PageEvent) -> dict[str, Any]:
    return execute.maintenance_page(site(), EdgeTarget.model_validate(event.request.target))
