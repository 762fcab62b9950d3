"""Lambda entry points of the Kubernetes steps: pre-checks, roll back, rollout status, pod health.

One module, four handlers (one Lambda function each); they share the cluster connection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.approvals_store import ApprovalStore
from functions.adapters.aws import client
from functions.kubernetes.client import kubernetes_clients
from functions.kubernetes.rollouts import DeploymentRollouts
from functions.logic import kubernetes_app
from functions.logic.approvals import require_granted_approval
from functions.models.rollback import DeploymentChange, DeploymentPlan, RollbackRequest
from functions.observability import logger, tracer
from functions.settings import ClusterSettings, Tables


@lru_cache(maxsize=4)
def _rollouts(name: str, endpoint: str, ca_data: str | None) -> DeploymentRollouts:
    apps, core = kubernetes_clients(endpoint=endpoint, ca_data=ca_data, cluster_name=name, sts_client=client("sts"))
    return DeploymentRollouts(apps, core)


def rollouts() -> DeploymentRollouts:
    settings = ClusterSettings.from_env()
    return _rollouts(settings.name, settings.endpoint, settings.ca_data)


class RequestEvent(BaseModel):
    request: RollbackRequest


class PlanEvent(RequestEvent):
    approval_id: str
    plan: DeploymentPlan


class ChangeEvent(BaseModel):
    change: DeploymentChange


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def run_prechecks(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = RequestEvent.model_validate(event)
    result = kubernetes_app.run_prechecks(parsed.request, rollouts())
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def roll_back_deployment(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = PlanEvent.model_validate(event)
    require_granted_approval(
        ApprovalStore(client("dynamodb"), Tables.approvals_from_env()), parsed.approval_id, parsed.request
    )
    change = kubernetes_app.roll_back_deployment(parsed.request, parsed.plan, rollouts(), datetime.now(UTC))
    logger.info("deployment rolled back", extra={"deployment": change.target, "outcome": change.message})
    return change.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def check_rollout(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = ChangeEvent.model_validate(event)
    timeout = timedelta(seconds=ClusterSettings.from_env().rollout_timeout_seconds)
    progress = kubernetes_app.check_rollout(parsed.change, rollouts(), datetime.now(UTC), timeout)
    return progress.model_dump(mode="json")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def check_pods(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = ChangeEvent.model_validate(event)
    summary = kubernetes_app.check_pods(parsed.change, rollouts())
    return {"healthy": True, "summary": summary}
