"""CloudWatch alarm -> EventBridge rule -> intake -> a rollback proposal waiting for approval."""

from __future__ import annotations

import json

from local.pipeline import LocalPipeline
from tests.support.events import alarm_state_change


def test_alarm_starts_the_configured_rollback_as_a_proposal_waiting_for_approval(pipeline: LocalPipeline) -> None:
    result = pipeline.fire_alarm(alarm_state_change())
    assert result["action"] == "start"
    execution = result["execution_arn"]
    pipeline.wait_for_state(execution, "Request approval")
    description = pipeline.describe(execution)
    assert description["status"] == "RUNNING"
    started_with = json.loads(description["input"])
    assert started_with["deployments"] == ["skillancer-web", "skillancer-api"]
    assert started_with["alarm"]["name"] == "skillancer-api-5xx"
    emails = pipeline.approval_requests(count=3)
    assert "Alarm: skillancer-api-5xx" in emails[0].body


def test_redelivered_alarm_event_starts_one_execution(pipeline: LocalPipeline) -> None:
    # Given an alarm event delivered twice (EventBridge delivers at least once)
    first = pipeline.fire_alarm(alarm_state_change())
    again = pipeline.fire_alarm(alarm_state_change())
    # Then both name the same execution (Step Functions' start is idempotent per name and input)
    assert first["execution_arn"] == again["execution_arn"]
    assert len(pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"]) == 1


def test_alarm_to_alarm_and_back_to_ok_start_nothing(pipeline: LocalPipeline) -> None:
    assert pipeline.fire_alarm(alarm_state_change(previous="ALARM"))["action"] == "ignored"
    assert pipeline.fire_alarm(alarm_state_change(state="OK", previous="ALARM"))["action"] == "not matched by the rule"
    assert pipeline.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"] == []
