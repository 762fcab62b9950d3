"""Intake: a CloudWatch alarm entering ALARM is classified with the decision matrix and becomes a rollback
proposal (which still waits for the matrix's approvers), a fix-forward notice, or is attached to the open
incident of the same service and environment (alarm storms become one rollback)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from functions.adapters.incidents import Incident, incident_key
from functions.logic.decision_matrix import DecisionMatrix, MatrixRow, WorkflowTarget


class AlarmStateChange(BaseModel):
    """The parts of an EventBridge "CloudWatch Alarm State Change" event that intake uses."""

    alarm_name: str
    alarm_arn: str
    state: str
    previous_state: str | None
    reason: str | None
    time: str
    region: str
    account: str
    metrics: list[tuple[str, str]]

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> AlarmStateChange:
        detail = event["detail"]
        metrics = []
        for metric in (detail.get("configuration") or {}).get("metrics") or []:
            stat = (metric.get("metricStat") or {}).get("metric") or {}
            if stat.get("namespace") and stat.get("name"):
                metrics.append((stat["namespace"], stat["name"]))
        resources = event.get("resources") or []
        return cls(
            alarm_name=detail["alarmName"],
            alarm_arn=resources[0]
            if resources
            else f"arn:aws:cloudwatch:{event['region']}:{event['account']}:alarm:" + detail["alarmName"],
            state=detail["state"]["value"],
            previous_state=(detail.get("previousState") or {}).get("value"),
            reason=detail["state"].get("reason"),
            time=detail["state"].get("timestamp") or event["time"],
            region=event["region"],
            account=event["account"],
            metrics=metrics,
        )

    @property
    def identity(self) -> str:
        """One alarm transition: a redelivered event has the same identity."""
        return f"{self.alarm_name}@{self.time}"

    @property
    def enters_alarm(self) -> bool:
        return self.state == "ALARM" and self.previous_state != "ALARM"


Action = Literal["ignored", "unmatched", "fix_forward", "started", "attached", "escalated", "no_workflow"]


class IntakeOutcome(BaseModel):
    action: Action
    scenario: str | None = None
    severity: str | None = None
    decision: str | None = None
    workflow: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    input: dict[str, Any] | None = None


class Incidents(Protocol):
    def open_or_attach(
        self, key: str, *, alarm_id: str, execution_name: str, scenario: str, now: datetime, window: timedelta
    ) -> Incident: ...


class Starter(Protocol):
    def __call__(self, workflow: str, name: str, payload: dict[str, Any]) -> str | None:
        """Start (idempotently) and return the execution ARN, or None when the workflow is not deployed."""


class Notify(Protocol):
    def __call__(self, subject: str, message: str) -> None: ...


def execution_name(service: str, environment: str, alarm: AlarmStateChange) -> str:
    """Deterministic per incident: a redelivered opening alarm names the same execution."""
    digest = hashlib.sha256(f"{alarm.account}/{alarm.region}/{alarm.identity}".encode()).hexdigest()[:16]
    return re.sub(r"[^A-Za-z0-9-_]", "-", f"{service}-{environment}")[:60] + f"-{digest}"


def rfc3339(timestamp: str) -> str:
    """CloudWatch writes ``2026-11-28T03:00:00.000+0000``; the workflow takes RFC 3339 (``+00:00``)."""
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat() if "." in timestamp else timestamp


def workflow_input(
    row: MatrixRow, target: WorkflowTarget, alarm: AlarmStateChange, tags: dict[str, str]
) -> dict[str, Any]:
    payload = {
        **target.input,
        "scenario": row.scenario,
        "severity": row.severity,
        "required_roles": row.required_roles,
        "reason": target.input.get("reason") or f"{row.scenario}: alarm {alarm.alarm_name} ({alarm.reason or 'ALARM'})",
        "requested_by": target.input.get("requested_by") or "intake",
        "alarm": {
            "name": alarm.alarm_name,
            "state_change_time": rfc3339(alarm.time),
            "reason": alarm.reason,
            "region": alarm.region,
            "account": alarm.account,
        },
    }
    for key in ("service", "environment"):
        if tags.get(key):
            payload[key] = tags[key]
    return payload


def handle_alarm(
    alarm: AlarmStateChange,
    tags: dict[str, str],
    *,
    matrix: DecisionMatrix,
    incidents: Incidents,
    start: Starter,
    notify: Notify,
    now: datetime,
) -> list[IntakeOutcome]:
    if not alarm.enters_alarm:
        return [IntakeOutcome(action="ignored")]
    row = matrix.classify(alarm.alarm_name, tags, alarm.metrics)
    if row is None:
        notify(
            f"Unclassified alarm: {alarm.alarm_name}",
            f"{alarm.alarm_name} entered ALARM and matches no row of the decision matrix: {alarm.reason}",
        )
        return [IntakeOutcome(action="unmatched")]
    facts = {"scenario": row.scenario, "severity": row.severity, "decision": row.decision}
    if row.decision == "fix_forward":
        notify(
            f"[{row.severity}] FIX FORWARD: {row.scenario}",
            f"Alarm {alarm.alarm_name} entered ALARM: {alarm.reason}\n"
            f"The decision matrix says: no rollback, fix forward. On-call owns it.",
        )
        return [IntakeOutcome(action="fix_forward", **facts)]
    return [
        _propose(row, target, alarm, tags, incidents, start, notify, now, matrix, facts) for target in row.workflows
    ]


def _propose(
    row: MatrixRow,
    target: WorkflowTarget,
    alarm: AlarmStateChange,
    tags: dict[str, str],
    incidents: Incidents,
    start: Starter,
    notify: Notify,
    now: datetime,
    matrix: DecisionMatrix,
    facts: dict[str, Any],
) -> IntakeOutcome:
    payload = workflow_input(row, target, alarm, tags)
    service, environment = payload["service"], payload["environment"]
    incident = incidents.open_or_attach(
        incident_key(service, environment),
        alarm_id=alarm.identity,
        execution_name=execution_name(service, environment, alarm),
        scenario=row.scenario,
        now=now,
        window=timedelta(seconds=matrix.incident_window_seconds),
    )
    common = {**facts, "workflow": target.workflow, "execution_name": incident.execution_name}
    if not incident.opened and incident.opening_alarm != alarm.identity:
        if incident.scenario != row.scenario:
            notify(
                f"[{row.severity}] ESCALATION: {row.scenario} during open incident on {service} ({environment})",
                f"Alarm {alarm.alarm_name} ({row.scenario}) arrived while the {incident.scenario!r} rollback "
                f"{incident.execution_name} is open. It was attached to that incident, not started in parallel: "
                "decide whether the open rollback still fits.",
            )
            return IntakeOutcome(action="escalated", **common)
        return IntakeOutcome(action="attached", **common)
    # Opening alarm (or its redelivery): starting is idempotent per name and input.
    arn = start(target.workflow, incident.execution_name, payload)
    if arn is None:
        notify(
            f"[{row.severity}] No automated {target.workflow} rollback deployed: {row.scenario}",
            f"Alarm {alarm.alarm_name} calls for a {target.workflow} rollback of {service} ({environment}), which is "
            "not deployed yet. Follow the runbook by hand.",
        )
        return IntakeOutcome(action="no_workflow", **common)
    return IntakeOutcome(action="started", execution_arn=arn, input=payload, **common)
