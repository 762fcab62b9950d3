"""Intake: the decision matrix classifies alarms; storms become one incident per service and environment."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.adapters.incidents import Incident
from functions.logic.decision_matrix import MATRIX_FILE, MatrixError, load_matrix, parse_matrix
from functions.logic.intake import AlarmStateChange, handle_alarm
from tests.support.events import alarm_state_change

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@dataclass
class InMemoryIncidents:
    """Same contract as IncidentStore (tested on moto in tests/workflows)."""

    open: dict[str, Incident] = field(default_factory=dict)

    def open_or_attach(
        self, key: str, *, alarm_id: str, execution_name: str, scenario: str, now: datetime, window: timedelta
    ) -> Incident:
        if key not in self.open:
            self.open[key] = Incident(key, execution_name, scenario, alarm_id, True, [alarm_id])
            return self.open[key]
        current = self.open[key]
        alarms = current.alarms if alarm_id in current.alarms else [*current.alarms, alarm_id]
        self.open[key] = Incident(key, current.execution_name, current.scenario, current.opening_alarm, False, alarms)
        return self.open[key]


@dataclass
class World:
    incidents: InMemoryIncidents = field(default_factory=InMemoryIncidents)
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    deployed: tuple[str, ...] = ("kubernetes_app",)

    def start(self, workflow: str, name: str, payload: dict[str, Any]) -> str | None:
        if workflow not in self.deployed:
            return None
        self.executions.setdefault(name, {"workflow": workflow, "input": payload})  # idempotent per name
        return f"arn:aws:states:us-east-1:123456789012:execution:{workflow}:{name}"

    def notify(self, subject: str, message: str) -> None:
        self.notices.append(subject)

    def handle(self, event: dict[str, Any], tags: dict[str, str] | None = None) -> list[Any]:
        return handle_alarm(
            AlarmStateChange.from_event(event), tags or {}, matrix=load_matrix(), incidents=self.incidents,
            start=self.start, notify=self.notify, now=NOW,
        )  # fmt: skip


APP = "kubernetes_app"
ROWS = [
    ("skillancer-api-5xx-rate", "Complete platform outage", "P0", "started", ["on-call", "lead"], APP),
    ("skillancer-data-integrity-check", "Data corruption detected", "P0", "no_workflow", ["cto"], "database_pitr"),
    ("skillancer-security-breach", "Security breach confirmed", "P0", "started", ["cto", "security"], APP),
    ("skillancer-feature-errors", "Major feature broken (>50% users)", "P1", "started", ["on-call", "lead"], APP),
    ("skillancer-payments-failed", "Payment processing failed", "P1", "started", ["on-call", "billing-lead"], APP),
    ("skillancer-latency-p95", "Performance degradation (>500ms p95)", "P2", "fix_forward", ["on-call"], None),
    ("skillancer-minor-errors", "Minor feature broken", "P3", "fix_forward", ["on-call"], None),
]  # fmt: skip


@pytest.mark.parametrize(("alarm", "scenario", "severity", "action", "roles", "workflow"), ROWS)
def test_every_matrix_row(
    alarm: str, scenario: str, severity: str, action: str, roles: list[str], workflow: str | None
) -> None:
    # Given an alarm of the row's kind entering ALARM
    world = World()
    (outcome,) = world.handle(alarm_state_change(name=alarm))
    # Then intake takes the row's decision, severity, approvers and workflow
    assert (outcome.scenario, outcome.severity, outcome.action, outcome.workflow) == (
        scenario,
        severity,
        action,
        workflow,
    )
    if action == "started":
        (execution,) = world.executions.values()
        assert execution["input"]["required_roles"] == roles
        assert execution["input"]["severity"] == severity
        assert execution["input"]["alarm"]["name"] == alarm
        assert execution["input"]["service"] == "skillancer" and execution["input"]["environment"] == "production"
    else:
        assert world.executions == {}
    if action == "fix_forward":
        assert world.notices == [f"[{severity}] FIX FORWARD: {scenario}"]


def test_alarm_is_classified_by_namespace_and_metric_too() -> None:
    event = alarm_state_change(name="p95-latency-custom")
    event["detail"]["configuration"]["metrics"] = [
        {"metricStat": {"metric": {"namespace": "Skillancer/API", "name": "LatencyP95"}}}
    ]
    (outcome,) = World().handle(event)
    assert outcome.scenario == "Performance degradation (>500ms p95)"


def test_only_transitions_into_alarm_act() -> None:
    world = World()
    assert world.handle(alarm_state_change(previous="ALARM"))[0].action == "ignored"
    assert world.handle(alarm_state_change(state="OK", previous="ALARM"))[0].action == "ignored"
    assert world.executions == {}


def test_unknown_alarm_starts_nothing_and_tells_on_call() -> None:
    world = World()
    assert world.handle(alarm_state_change(name="somebody-elses-alarm"))[0].action == "unmatched"
    assert world.executions == {} and world.notices == ["Unclassified alarm: somebody-elses-alarm"]


def test_redelivered_alarm_names_the_same_execution() -> None:
    world = World()
    first = world.handle(alarm_state_change(name="skillancer-api-5xx"))[0]
    again = world.handle(alarm_state_change(name="skillancer-api-5xx"))[0]
    assert first.execution_name == again.execution_name
    assert len(world.executions) == 1


def test_storm_of_1000_alarms_across_10_services_starts_10_rollbacks() -> None:
    # Given 1,000 alarm transitions spread over 10 services (the service comes from the alarm's tags)
    world = World()
    for index in range(1000):
        event = alarm_state_change(
            name=f"skillancer-api-5xx-{index % 37}", at=f"2026-11-28T03:{index % 60:02d}:00.000+0000"
        )
        world.handle(event, tags={"service": f"svc-{index % 10}"})
    # Then exactly one rollback per service, the other alarms attached to its incident
    assert len(world.executions) == 10
    assert sorted(e["input"]["service"] for e in world.executions.values()) == [f"svc-{i}" for i in range(10)]
    assert sum(len(i.alarms) for i in world.incidents.open.values()) >= 10 * 37


def test_second_scenario_during_an_open_rollback_is_attached_and_escalated() -> None:
    world = World()
    world.handle(alarm_state_change(name="skillancer-api-5xx"))
    (outcome,) = world.handle(alarm_state_change(name="skillancer-payments-failed", at="2026-11-28T03:05:00.000+0000"))
    assert outcome.action == "escalated"
    assert len(world.executions) == 1
    assert world.notices[-1].startswith("[P1] ESCALATION: Payment processing failed during open incident")


def test_the_runbook_matrix_has_its_seven_rows() -> None:
    matrix = load_matrix()
    assert [(r.scenario, r.severity, r.decision) for r in matrix.rows] == [
        ("Complete platform outage", "P0", "rollback"),
        ("Data corruption detected", "P0", "rollback"),
        ("Security breach confirmed", "P0", "rollback"),
        ("Major feature broken (>50% users)", "P1", "consider"),
        ("Payment processing failed", "P1", "consider"),
        ("Performance degradation (>500ms p95)", "P2", "fix_forward"),
        ("Minor feature broken", "P3", "fix_forward"),
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m["rows"][4].update(required_roles=[]), "rows[4] ('Payment processing failed').required_roles"),
        (lambda m: m["rows"][1].update(severity="P5"), "rows[1] ('Data corruption detected').severity"),
        (lambda m: m["rows"][5].update(workflows=m["rows"][0]["workflows"]), "a fix-forward row starts no workflow"),
        (
            lambda m: m["rows"][0]["workflows"][0].update(workflow="magic"),
            "rows[0] ('Complete platform outage').workflows.0.workflow",
        ),
        (lambda m: m["rows"][2].update(alarms={}), "give at least one of names, name_prefixes, tags, metrics"),
    ],
)
def test_bad_matrix_names_the_row_and_field(mutate: Any, message: str) -> None:
    data = copy.deepcopy(json.loads(MATRIX_FILE.read_text()))
    mutate(data)
    with pytest.raises(MatrixError) as error:
        parse_matrix(data)
    assert message in str(error.value)
