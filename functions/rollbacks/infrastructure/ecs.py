"""ECS: roll a service back to a previous task definition revision (the one before the current by default), then
follow its deployment until the PRIMARY deployment runs the approved revision with every task running."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.errors import InvalidRollbackInput, RollbackError
from functions.models.rollback import ChangeRecord, PlannedChange, StrictModel


class NoPreviousRevision(InvalidRollbackInput):
    """There is no task definition revision to roll back to."""


class ServiceMoved(RollbackError):
    """The service no longer runs the task definition approvers saw."""


class DeploymentFailed(RollbackError):
    """The rollback deployment failed or did not complete in time."""


class ServiceFacts(StrictModel):
    cluster: str
    service: str
    task_definition: str  # its ARN
    desired: int
    running: int


class DeploymentProgress(StrictModel):
    ended: bool
    completed: bool
    timed_out: bool
    state: str
    task_definition: str | None
    running: int
    desired: int


def family_revision(arn: str) -> tuple[str, int]:
    """``arn:aws:ecs:...:task-definition/api:7`` or ``api:7`` -> (``api``, 7)."""
    name = arn.rsplit("/", 1)[-1]
    family, revision = name.rsplit(":", 1)
    return family, int(revision)


def describe_service(ecs: Any, cluster: str, service: str) -> ServiceFacts:
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services") or []
    if not found or found[0].get("status") != "ACTIVE":
        raise InvalidRollbackInput(f"target.ecs: service {service} is not active in cluster {cluster}")
    described = found[0]
    return ServiceFacts(
        cluster=cluster,
        service=service,
        task_definition=str(described["taskDefinition"]),
        desired=int(described.get("desiredCount", 0)),
        running=int(described.get("runningCount", 0)),
    )


def rollback_revision(ecs: Any, current: str, wanted: str | None) -> str:
    """The ARN of ``wanted`` (family:revision), or of the highest revision of the current one's family below it."""
    if wanted is not None:
        try:
            return str(ecs.describe_task_definition(taskDefinition=wanted)["taskDefinition"]["taskDefinitionArn"])
        except ecs.exceptions.ClientException as error:
            raise NoPreviousRevision(f"target.ecs.to_task_definition: {wanted} does not exist ({error})") from None
    family, revision = family_revision(current)
    arns: list[str] = []
    for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, sort="DESC"):
        arns.extend(page.get("taskDefinitionArns", []))
    older = sorted(
        (arn for arn in arns if family_revision(arn)[0] == family and family_revision(arn)[1] < revision),
        key=lambda arn: family_revision(arn)[1],
    )
    if not older:
        raise NoPreviousRevision(f"target.ecs: {family} has no revision before {revision} to roll back to")
    return older[-1]


def roll_back(change: PlannedChange, ecs: Any, now: datetime) -> ChangeRecord:
    """Points the service at the approved revision, if it still runs the one approvers saw."""
    if change.skip:
        return ChangeRecord.of(change, "skipped", "nothing to roll back", now)
    parameters = change.parameters
    cluster, service = str(parameters["cluster"]), str(parameters["service"])
    current = describe_service(ecs, cluster, service)
    if current.task_definition != parameters["from"]:
        raise ServiceMoved(
            f"{cluster}/{service} runs {current.task_definition}, approvers saw {parameters['from']}: not changed"
        )
    ecs.update_service(cluster=cluster, service=service, taskDefinition=str(parameters["to"]))
    return ChangeRecord.of(
        change,
        "unconfirmed",
        f"{cluster}/{service} deploying {parameters['to']}",
        now,
        parameters={"started_at": now.isoformat(), "to": parameters["to"]},
    )


def follow(
    record: ChangeRecord, ecs: Any, cluster: str, service: str, now: datetime, timeout: timedelta
) -> DeploymentProgress:
    if record.status == "skipped":
        return DeploymentProgress(
            ended=True, completed=True, timed_out=False, state="SKIPPED", task_definition=None, running=0, desired=0
        )
    found = (ecs.describe_services(cluster=cluster, services=[service]).get("services") or [{}])[0]
    primary: dict[str, Any] = next((d for d in found.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    desired = int(primary.get("desiredCount", found.get("desiredCount", 0)))
    running = int(primary.get("runningCount", 0))
    completed = (
        primary.get("taskDefinition") == record.parameters["to"]
        and primary.get("rolloutState") == "COMPLETED"
        and running == desired
    )
    failed = primary.get("rolloutState") == "FAILED"
    started_at = datetime.fromisoformat(str(record.parameters["started_at"]))
    timed_out = not (completed or failed) and now - started_at > timeout
    return DeploymentProgress(
        ended=completed or failed or timed_out,
        completed=completed,
        timed_out=timed_out,
        state=str(primary.get("rolloutState", "UNKNOWN")),
        task_definition=primary.get("taskDefinition"),
        running=running,
        desired=desired,
    )


def outcome(change: PlannedChange, progress: DeploymentProgress, now: datetime) -> ChangeRecord:
    if change.skip:
        return ChangeRecord.of(change, "skipped", "nothing to roll back", now)
    parameters = change.parameters
    where = f"{parameters['cluster']}/{parameters['service']}"
    if not progress.completed:
        why = "did not complete in time" if progress.timed_out else f"is {progress.state}"
        raise DeploymentFailed(
            f"{where}: the deployment of {parameters['to']} {why} ({progress.running}/{progress.desired} running); "
            f"the way back: {change.revert}"
        )
    return ChangeRecord.of(
        change,
        "applied",
        f"{where} runs {parameters['to']}: deployment COMPLETED, {progress.running}/{progress.desired} tasks running",
        now,
        parameters={
            "cluster": parameters["cluster"],
            "service": parameters["service"],
            "from": parameters["from"],
            "to": parameters["to"],
        },
    )
