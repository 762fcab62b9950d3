"""Lambda entry points shared by the restore types: start the restore, follow it, check the restored data,
switch the connection. Each type's slice adds its own pre-checks (which restore point) and re-exports these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from functions.adapters.aws import client
from functions.capabilities.databases import restore_steps
from functions.capabilities.databases.connection import connect
from functions.capabilities.databases.connection_store import ConnectionStore
from functions.capabilities.databases.integrity import IntegrityReport, run_integrity_checks
from functions.capabilities.databases.restore_config import DatabaseSettings
from functions.capabilities.databases.restore_steps import IntegrityOutcome, RestoreProgress, SwitchEvent
from functions.capabilities.kubernetes.api import ApiException
from functions.capabilities.kubernetes.settings import ClusterSettings, cluster_apps
from functions.change_steps import change_step
from functions.errors import InvalidRollbackInput
from functions.models.rollback import ChangeRecord, ChangeStepEvent, RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.settings import load_settings
from functions.steps import LambdaHandler, step

PlanRestore = Callable[[RollbackRequest, Any, Any, DatabaseSettings], RollbackPlan]


class PlanEvent(BaseModel):
    request: RollbackRequest


class FollowEvent(BaseModel):
    request: RollbackRequest
    restore: ChangeRecord


class IntegrityEvent(BaseModel):
    request: RollbackRequest
    restored: RestoreProgress


def connection_client(store: str) -> Any:
    return client("ssm" if store == "ssm" else "secretsmanager")


def prechecks(plan_restore: PlanRestore) -> LambdaHandler:
    """A restore type's pre-checks entry point: its ``plan_restore`` with RDS and the connection's store."""

    @step
    def run_prechecks(event: PlanEvent) -> RollbackPlan:
        settings = load_settings(DatabaseSettings)
        location = settings.instance(str(event.request.target.get("source_instance"))).connection
        result = plan_restore(event.request, client("rds"), connection_client(location.store), settings)
        restart = settings.instance(str(event.request.target.get("source_instance"))).restart
        if restart is not None:  # the Deployments to restart exist (a typo fails here, before approval)
            apps = cluster_apps(client("sts"))
            for deployment in restart.deployments:
                try:
                    apps.read_namespaced_deployment(deployment, restart.namespace)
                except ApiException as error:
                    if error.status != 404:
                        raise
                    raise InvalidRollbackInput(
                        f"restart: no Deployment {restart.namespace}/{deployment} to restart after the switch"
                    ) from None
        logger.info("pre-checks passed", extra={"summary": result.summary})
        return result

    return run_prechecks


@change_step
def restore_instance(event: ChangeStepEvent) -> ChangeRecord:
    record = restore_steps.start_restore(event.change, client("rds"), event.request.rollback_id, datetime.now(UTC))
    logger.info("restore started", extra={"target": record.target})
    return record


@step
def check_restore(event: FollowEvent) -> RestoreProgress:
    timeout = timedelta(seconds=load_settings(DatabaseSettings).restore_timeout_seconds)
    return restore_steps.follow_restore(event.restore, client("rds"), datetime.now(UTC), timeout)


@step
def check_integrity(event: IntegrityEvent) -> IntegrityOutcome:
    settings = load_settings(DatabaseSettings)
    source = event.request.target.get("source_instance")
    location = settings.instance(str(source)).connection
    checks = settings.instance(str(source)).integrity_checks

    def run_checks(url: str, incident_at: datetime) -> IntegrityReport:
        with connect(url) as connection:
            return run_integrity_checks(connection, checks, incident_at)

    store = ConnectionStore(location, connection_client(location.store))
    outcome = restore_steps.check_integrity(event.restored, store, event.request.detected_at, run_checks)
    logger.info("restored data checked", extra={"summary": outcome.summary})
    return outcome


@change_step
def switch_connection(event: SwitchEvent) -> ChangeRecord:
    store = str(event.change.parameters["location"]["store"])  # type: ignore[index,call-overload]
    return restore_steps.switch_connection(event, connection_client(store), datetime.now(UTC))


class RestartEvent(BaseModel):
    restart: ChangeRecord


@change_step
def restart_application(event: ChangeStepEvent) -> ChangeRecord:
    return restore_steps.restart_application(event.change, cluster_apps(client("sts")), datetime.now(UTC))


@step
def check_restart(event: RestartEvent) -> restore_steps.RestartProgress:
    timeout = timedelta(seconds=load_settings(ClusterSettings).rollout_timeout_seconds)
    return restore_steps.follow_restart(event.restart, cluster_apps(client("sts")), datetime.now(UTC), timeout)
