"""Intake: a CloudWatch alarm that enters ALARM starts a rollback proposal (it still waits for approval)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, Field

from functions.models.rollback import AlarmReference


class AlarmStateChange(BaseModel):
    """The parts of an EventBridge "CloudWatch Alarm State Change" event that intake uses."""

    alarm_name: str
    state: str
    previous_state: str | None
    reason: str | None
    time: str
    region: str
    account: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> AlarmStateChange:
        detail = event["detail"]
        return cls(
            alarm_name=detail["alarmName"],
            state=detail["state"]["value"],
            previous_state=(detail.get("previousState") or {}).get("value"),
            reason=detail["state"].get("reason"),
            time=detail["state"].get("timestamp") or event["time"],
            region=event["region"],
            account=event["account"],
        )


class IntakeRoute(BaseModel):
    """Which workflow an alarm starts, with which input template (the decision matrix replaces this later)."""

    workflow: str = "kubernetes_app"
    input: dict[str, Any] = Field(default_factory=dict)


class IntakeDecision(BaseModel):
    action: str
    execution_name: str | None = None
    workflow: str | None = None
    input: dict[str, Any] | None = None


def execution_name(alarm: AlarmStateChange) -> str:
    """Deterministic per incident, so a redelivered event cannot start a second execution."""
    digest = hashlib.sha256(f"{alarm.account}/{alarm.region}/{alarm.alarm_name}/{alarm.time}".encode()).hexdigest()
    readable = re.sub(r"[^A-Za-z0-9-_]", "-", alarm.alarm_name)[:60]
    return f"{readable}-{digest[:16]}"


def decide(alarm: AlarmStateChange, route: IntakeRoute) -> IntakeDecision:
    if alarm.state != "ALARM" or alarm.previous_state == "ALARM":
        return IntakeDecision(action="ignored")
    reference = AlarmReference(
        name=alarm.alarm_name,
        state_change_time=alarm.time,
        reason=alarm.reason,
        region=alarm.region,
        account=alarm.account,
    )
    payload = {
        **route.input,
        "alarm": json.loads(reference.model_dump_json()),
        "reason": route.input.get("reason") or f"Alarm {alarm.alarm_name}: {alarm.reason or 'entered ALARM'}",
        "requested_by": route.input.get("requested_by") or "intake",
    }
    return IntakeDecision(action="start", execution_name=execution_name(alarm), workflow=route.workflow, input=payload)
