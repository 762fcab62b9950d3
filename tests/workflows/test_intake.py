"""CloudWatch alarm -> EventBridge rule -> intake -> the decision matrix -> a proposal waiting for approval."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from local.pipeline import LocalPipeline
from tests.support.events import alarm_state_change


def outcome(result: dict[str, Any]) -> dict[str, Any]:
    (only,) = result["outcomes"]
    return dict(only)


def test_alarm_starts_the_matrix_rollback_as_a_proposal_waiting_for_approval(pipeline: LocalPipeline) -> None:
    result = outcome(pipeline.fire_alarm(alarm_state_change()))
    assert (result["action"], result["scenario"], result["severity"]) == ("started", "Complete platform outage", "P0")
    execution = result["execution_arn"]
    pipeline.wait_for_state(execution, "Request approval")
    started_with = json.loads(pipeline.describe(execution)["input"])
    assert started_with["target"] == {"deployments": ["skillancer-web", "skillancer-api"]}
    assert started_with["required_roles"] == ["on-call", "lead"]
    assert started_with["alarm"]["name"] == "skillancer-api-5xx"
    emails = pipeline.approval_requests(count=3)
    assert "Alarm: skillancer-api-5xx" in emails[0].body


def test_redelivered_alarm_event_names_the_same_execution(pipeline: LocalPipeline) -> None:
    # Given an alarm event delivered twice (EventBridge delivers at least once)
    first = outcome(pipeline.fire_alarm(alarm_state_change()))
    again = outcome(pipeline.fire_alarm(alarm_state_change()))
    # Then both name the same execution, and only one exists
    assert first["execution_arn"] == again["execution_arn"]
    assert len(pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"]) == 1


def test_fix_forward_alarm_starts_nothing_and_tells_the_war_room(pipeline: LocalPipeline) -> None:
    result = outcome(pipeline.fire_alarm(alarm_state_change(name="skillancer-latency-p95-api")))
    assert result["action"] == "fix_forward"
    assert pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"] == []
    assert any("FIX FORWARD" in email.subject for email in pipeline.notifications.fetch())


def test_alarm_to_alarm_and_back_to_ok_start_nothing(pipeline: LocalPipeline) -> None:
    assert outcome(pipeline.fire_alarm(alarm_state_change(previous="ALARM")))["action"] == "ignored"
    assert pipeline.fire_alarm(alarm_state_change(state="OK", previous="ALARM")) == {
        "action": "not matched by the rule"
    }
    assert pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"] == []


def test_storm_of_1000_alarm_events_across_10_services_makes_exactly_10_executions(pipeline: LocalPipeline) -> None:
    # Given ten services' 5xx alarms, tagged with their service
    cloudwatch: Any = boto3.client("cloudwatch")
    for service in range(10):
        cloudwatch.put_metric_alarm(
            AlarmName=f"skillancer-api-5xx-svc{service}", Namespace="Skillancer/API", MetricName="5xx",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "service", "Value": f"svc{service}"}],
        )  # fmt: skip
    # When 1,000 alarm transitions arrive (100 per service, each a distinct transition)
    started = time.perf_counter()
    for index in range(1000):
        service, minute = index % 10, index // 10
        pipeline.fire_alarm(
            alarm_state_change(
                name=f"skillancer-api-5xx-svc{service}",
                at=f"2026-11-28T03:{minute % 60:02d}:{minute // 60:02d}.000+0000",
            )
        )
    elapsed = time.perf_counter() - started
    # Then exactly ten rollbacks exist, one per service, and every other alarm is attached to its incident
    executions = pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"]
    assert len(executions) == 10
    services = sorted(json.loads(pipeline.describe(e["executionArn"])["input"])["service"] for e in executions)
    assert services == [f"svc{i}" for i in range(10)]
    incidents = pipeline.dynamodb.scan(TableName=pipeline.deployment.table_name("StateIncidents"))["Items"]
    assert sorted(len(i["alarms"]["L"]) for i in incidents) == [100] * 10
    assert elapsed < 600  # a sanity bound only; the speed figure lives in `make bench`
