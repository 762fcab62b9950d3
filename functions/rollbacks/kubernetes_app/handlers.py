"""Lambda entry points of ``kubernetes_app``: plan (pre-checks), roll back, rollout status, pod health.

One module, four handlers (one Lambda function each); they share the cluster connection.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pydantic import BaseModel

from functions.adapters.aws import client
from functions.capabilities.kubernetes.client import kubernetes_clients
from functions.capabilities.kubernetes.settings import ClusterSettings
from functions.change_steps import change_step
from functions.models.rollback import ChangeRecord, ChangeStepEvent, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.rollbacks.kubernetes_app import checks, execute, plan
from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts
from functions.settings import load_settings
from functions.steps import step


@lru_cache(maxsize=4)
def _rollouts(name: str, endpoint: str, ca_data: str | None) -> DeploymentRollouts:
    apps, core = kubernetes_clients(endpoint=endpoint, ca_data=ca_data, cluster_name=name, sts_client=client("sts"))
    return DeploymentRollouts(apps, core)


def rollouts() -> DeploymentRollouts:
    settings = load_settings(ClusterSettings)
    return _rollouts(settings.cluster_name, settings.cluster_endpoint, settings.cluster_ca_data)


class PlanEvent(BaseModel):
    request: RollbackRequest


class ChangeEvent(BaseModel):
    change: ChangeRecord


@step
def run_prechecks(event: PlanEvent) -> RollbackPlan:
    result = plan.plan_rollback(event.request, rollouts(), load_settings(ClusterSettings).cluster_name)
    logger.info("pre-checks passed", extra={"summary": result.summary})
    return result


@change_step
def roll_back_deployment(event: ChangeStepEvent) -> ChangeRecord:
    record = execute.roll_back_deployment(event.change, rollouts(), datetime.now(UTC))
    logger.info("deployment rolled back", extra={"target": record.target, "outcome": record.detail})
    return record


@step
def check_rollout(event: ChangeEvent) -> checks.RolloutProgress:
    timeout = timedelta(seconds=load_settings(ClusterSettings).rollout_timeout_seconds)
    return checks.check_rollout(event.change, rollouts(), datetime.now(UTC), timeout)


@step
def check_pods(event: ChangeEvent) -> checks.PodsHealthy:
    return checks.check_pods(event.change, rollouts())
