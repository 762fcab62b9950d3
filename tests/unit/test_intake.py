"""Intake: only transitions into ALARM act, with a deterministic execution name per incident."""

from __future__ import annotations

from typing import Any

from functions.logic.intake import AlarmStateChange, IntakeRoute, decide


def alarm_event(
    state: str = "ALARM", previous: str = "OK", time: str = "2026-11-28T03:00:00.000+0000"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-11-28T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:skillancer-api-5xx"],
        "detail": {
            "alarmName": "skillancer-api-5xx",
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": time},
            "previousState": {"value": previous, "reason": "ok", "timestamp": "2026-11-28T02:00:00.000+0000"},
            "configuration": {"metrics": []},
        },
    }


ROUTE = IntakeRoute(input={"service": "skillancer", "environment": "production", "deployments": ["skillancer-api"]})


def test_ok_to_alarm_starts_a_proposal_with_the_alarm_attached() -> None:
    decision = decide(AlarmStateChange.from_event(alarm_event()), ROUTE)
    assert decision.action == "start"
    assert decision.workflow == "kubernetes_app"
    assert decision.input is not None
    assert decision.input["alarm"]["name"] == "skillancer-api-5xx"
    assert decision.input["requested_by"] == "intake"
    assert "Threshold Crossed" in decision.input["reason"]


def test_alarm_to_alarm_and_alarm_to_ok_do_nothing() -> None:
    assert decide(AlarmStateChange.from_event(alarm_event(previous="ALARM")), ROUTE).action == "ignored"
    assert decide(AlarmStateChange.from_event(alarm_event(state="OK", previous="ALARM")), ROUTE).action == "ignored"


def test_execution_name_is_stable_per_incident_and_differs_between_incidents() -> None:
    first = decide(AlarmStateChange.from_event(alarm_event()), ROUTE).execution_name
    again = decide(AlarmStateChange.from_event(alarm_event()), ROUTE).execution_name
    later = decide(AlarmStateChange.from_event(alarm_event(time="2026-11-28T05:00:00.000+0000")), ROUTE).execution_name
    assert first == again != later
    assert first is not None and len(first) <= 80 and first.startswith("skillancer-api-5xx-")
