"""Intake: only transitions into ALARM act, with a deterministic execution name per incident."""

from __future__ import annotations

from functions.logic.intake import AlarmStateChange, IntakeDecision, IntakeRoute, decide
from tests.support.events import alarm_state_change

ROUTE = IntakeRoute(input={"service": "skillancer", "environment": "production", "deployments": ["skillancer-api"]})


def test_ok_to_alarm_starts_a_proposal_with_the_alarm_attached() -> None:
    decision = decide(AlarmStateChange.from_event(alarm_state_change()), ROUTE)
    assert decision.action == "start"
    assert decision.workflow == "kubernetes_app"
    assert decision.input is not None
    assert decision.input["alarm"]["name"] == "skillancer-api-5xx"
    assert decision.input["requested_by"] == "intake"
    assert "Threshold Crossed" in decision.input["reason"]


def decide_on(**event: str) -> IntakeDecision:
    return decide(AlarmStateChange.from_event(alarm_state_change(**event)), ROUTE)


def test_alarm_to_alarm_and_alarm_to_ok_do_nothing() -> None:
    assert decide_on(previous="ALARM").action == "ignored"
    assert decide_on(state="OK", previous="ALARM").action == "ignored"


def test_execution_name_is_stable_per_incident_and_differs_between_incidents() -> None:
    first = decide_on().execution_name
    again = decide_on().execution_name
    later = decide_on(at="2026-11-28T05:00:00.000+0000").execution_name
    assert first == again != later
    assert first is not None and len(first) <= 80 and first.startswith("skillancer-api-5xx-")
