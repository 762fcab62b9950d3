"""The pipeline watches itself: alarms on its own failures go to the encrypted operations topic, and a dashboard
shows outcomes, the approval API, the functions and the dead letters."""

from __future__ import annotations

import json
from typing import Any

from local.synth import Synthesized
from stacks.alarm_intake import PIPELINE_ALARM_PREFIX


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def operations_topic(template: dict[str, Any]) -> str:
    (topic,) = [k for k in resources(template, "AWS::SNS::Topic") if k.startswith("MonitoringOperationsAlarms")]
    return topic


def alarms_on(template: dict[str, Any], namespace: str, metric: str) -> dict[str, dict[str, Any]]:
    """Alarms on ``namespace``/``metric``, by the resource their dimension names (its logical id)."""
    found: dict[str, dict[str, Any]] = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if (props["Namespace"], props["MetricName"]) == (namespace, metric):
            for dimension in props["Dimensions"]:
                value = dimension["Value"]
                found[(value.get("Ref") or value["Fn::GetAtt"][0]) if isinstance(value, dict) else value] = props
    return found


def test_each_workflow_alarms_on_failed_timed_out_and_aborted_executions(synthesized: Synthesized) -> None:
    # Given every state machine of the stack
    template = synthesized.template
    machines = set(resources(template, "AWS::StepFunctions::StateMachine"))
    assert machines
    # Then each has an alarm on each bad outcome, at the first such execution
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        alarms = alarms_on(template, "AWS/States", metric)
        assert set(alarms) == machines, metric
        for props in alarms.values():
            assert (props["Statistic"], props["Threshold"], props["ComparisonOperator"]) == (
                "Sum",
                1,
                "GreaterThanOrEqualToThreshold",
            )


def test_every_function_alarms_on_errors_and_throttles(synthesized: Synthesized) -> None:
    template = synthesized.template
    functions = set(resources(template, "AWS::Lambda::Function"))
    for metric in ("Errors", "Throttles"):
        assert set(alarms_on(template, "AWS/Lambda", metric)) == functions, metric


def test_dead_letters_and_approval_api_5xx_alarm(synthesized: Synthesized) -> None:
    template = synthesized.template
    (queue,) = resources(template, "AWS::SQS::Queue")
    dead_letters = alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dead_letters[queue]["ComparisonOperator"] == "GreaterThanThreshold"
    assert dead_letters[queue]["Threshold"] == 0
    # The approval stage's 5xx (API name and stage dimensions)
    (api_alarm,) = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()
                    if a["Properties"]["MetricName"] == "5XXError"]  # fmt: skip
    (stage,) = resources(template, "AWS::ApiGateway::Stage")
    (api,) = resources(template, "AWS::ApiGateway::RestApi").values()
    dimensions = {d["Name"]: d["Value"] for d in api_alarm["Dimensions"]}
    assert api_alarm["Namespace"] == "AWS/ApiGateway"
    assert dimensions == {"ApiName": api["Properties"]["Name"], "Stage": {"Ref": stage}}
    assert api["Properties"]["Name"] == f"{synthesized.stack_name}-approval-page"  # its own metrics, no other API's


def test_every_alarm_notifies_the_operations_topic_and_is_named_as_the_pipelines_own(synthesized: Synthesized) -> None:
    template = synthesized.template
    topic = operations_topic(template)
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic}], props["AlarmName"]
        assert props["AlarmName"].startswith(f"{PIPELINE_ALARM_PREFIX}{synthesized.stack_name}/")
        assert props["TreatMissingData"] == "notBreaching"
    names = [alarm["Properties"]["AlarmName"] for alarm in alarms]
    assert len(names) == len(set(names))


def test_the_operations_topic_is_encrypted_and_cloudwatch_may_use_its_key(synthesized: Synthesized) -> None:
    # Given the operations topic and its key
    template = synthesized.template
    topic = template["Resources"][operations_topic(template)]["Properties"]
    key = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    # Then CloudWatch may encrypt with that key (otherwise alarm notifications are silently dropped)
    statements = template["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    assert template["Resources"][key]["Properties"]["EnableKeyRotation"] is True
    # And the topic refuses plain HTTP like the others
    policies = [p for p in resources(template, "AWS::SNS::TopicPolicy").values()
                if {"Ref": operations_topic(template)} in p["Properties"]["Topics"]]  # fmt: skip
    assert "aws:SecureTransport" in json.dumps(policies)


def test_operations_emails_subscribe_to_the_operations_topic(synthesized: Synthesized) -> None:
    template = synthesized.template
    topic = operations_topic(template)
    subscribed = {
        s["Properties"]["Endpoint"] for s in resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic}
    }  # fmt: skip
    assert subscribed == {"platform-oncall@skillancer.com"}


def test_the_dashboard_shows_outcomes_api_functions_and_dead_letters(synthesized: Synthesized) -> None:
    (dashboard,) = resources(synthesized.template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        assert metric in body, metric
    for metric in ("4XXError", "5XXError", "Latency", "Errors", "Duration", "ApproximateNumberOfMessagesVisible"):
        assert metric in body, metric
    for machine in resources(synthesized.template, "AWS::StepFunctions::StateMachine"):
        assert machine in body, machine
