"""Only the alarms the decision matrix knows reach intake, and never the pipeline's own: the intake rule's pattern,
read from the synthesized template and evaluated the way EventBridge does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from functions.logic.decision_matrix import load_matrix, parse_matrix
from local.synth import Synthesized
from stacks.alarm_intake import PIPELINE_ALARM_PREFIX, IntakeFilterError, intake_alarm_detail
from tests.support.events import alarm_state_change


class ArrayAwarePattern(EventPattern):
    """moto's matching, with EventBridge's flattening of arrays of objects: ``configuration.metrics[]`` becomes the
    list of values at ``configuration.metrics.metricStat.metric.namespace`` (moto stops at arrays)."""

    @staticmethod
    def _flatten_dict(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
        result = {} if result is None else result
        if isinstance(node, dict):
            for key, value in node.items():
                ArrayAwarePattern._flatten_dict(value, f"{prefix}.{key}" if prefix else key, result)
        elif isinstance(node, list):
            for item in node:
                ArrayAwarePattern._flatten_dict(item, prefix, result)
        else:
            result.setdefault(prefix, []).append(node)
        return result


def intake_pattern(synthesized: Synthesized) -> dict[str, Any]:
    (rule,) = [
        r for k, r in synthesized.template["Resources"].items()
        if r["Type"] == "AWS::Events::Rule" and k.startswith("AlarmStateChange")
    ]  # fmt: skip
    pattern: dict[str, Any] = rule["Properties"]["EventPattern"]
    return pattern


def delivered(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return ArrayAwarePattern.load(json.dumps(pattern)).matches_event(event)  # type: ignore[arg-type]


def alarm_on(name: str, namespace: str, metric: str, state: str = "ALARM") -> dict[str, Any]:
    event = alarm_state_change(name=name, state=state)
    event["detail"]["configuration"]["metrics"] = [
        {"id": "m1", "metricStat": {"metric": {"namespace": namespace, "name": metric, "dimensions": {}},
                                    "period": 60, "stat": "Sum"}, "returnData": True},
    ]  # fmt: skip
    return event


def test_an_alarm_the_matrix_names_reaches_intake(synthesized: Synthesized) -> None:
    # Given the intake rule's pattern and the 5xx alarm of the platform outage row
    pattern = intake_pattern(synthesized)
    event = alarm_on("skillancer-api-5xx-rate", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")
    # Then EventBridge delivers it, and so does moto's own matcher (the drill and the workflow tests use it)
    assert delivered(pattern, event)
    assert EventPattern.load(json.dumps(pattern)).matches_event(event)  # type: ignore[arg-type]
    # But not its return to OK
    assert not delivered(pattern, alarm_on("skillancer-api-5xx-rate", "AWS/ApplicationELB", "5xx", state="OK"))


def test_an_alarm_the_matrix_knows_by_its_metric_reaches_intake(synthesized: Synthesized) -> None:
    # Given an alarm whose name no row names, on the metric of the performance row
    event = alarm_on("p95-latency-custom", "Skillancer/API", "LatencyP95")
    # Then it is delivered, and intake classifies it
    assert delivered(intake_pattern(synthesized), event)
    assert load_matrix().classify("p95-latency-custom", {}, [("Skillancer/API", "LatencyP95")]) is not None


def test_an_autoscaling_target_tracking_alarm_does_not_reach_intake(synthesized: Synthesized) -> None:
    # Given the alarm DynamoDB auto scaling creates for a table (it goes to ALARM whenever the table scales)
    event = alarm_on(
        "TargetTracking-table/skillancer-sessions-AlarmHigh-4f3c2b1a-9d8e-4c7b-a6f5-0e1d2c3b4a59",
        "AWS/DynamoDB", "ConsumedWriteCapacityUnits",
    )  # fmt: skip
    # Then the rule does not deliver it: no "Unclassified alarm" email for every scaling step
    assert not delivered(intake_pattern(synthesized), event)


def test_none_of_the_pipelines_own_alarms_reaches_intake(synthesized: Synthesized) -> None:
    # Given every alarm of the stack, as the event CloudWatch sends when it enters ALARM
    pattern = intake_pattern(synthesized)
    template = synthesized.template
    alarms = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) > 10
    for alarm in alarms:
        assert alarm["AlarmName"].startswith(PIPELINE_ALARM_PREFIX)
        event = alarm_on(alarm["AlarmName"], alarm["Namespace"], alarm["MetricName"])
        # Then none is delivered: the pipeline's failures never start a rollback
        assert not delivered(pattern, event), alarm["AlarmName"]
    # Not even one on a metric the matrix knows
    assert not delivered(pattern, alarm_on(f"{PIPELINE_ALARM_PREFIX}probe", "Skillancer/API", "LatencyP95"))


def test_every_name_prefix_and_metric_of_the_matrix_is_delivered(synthesized: Synthesized) -> None:
    pattern = intake_pattern(synthesized)
    matrix = load_matrix()
    for row in matrix.rows:
        for prefix in row.alarms.name_prefixes:
            assert delivered(pattern, alarm_on(f"{prefix}-probe", "Probe", "Probe")), (row.scenario, prefix)
        for metric in row.alarms.metrics:
            assert delivered(pattern, alarm_on("unnamed-probe", metric.namespace, metric.metric)), row.scenario


MATRIX_ROW: dict[str, Any] = {
    "scenario": "Checkout down",
    "severity": "P0",
    "decision": "fix_forward",
    "required_roles": ["on-call"],
    "workflows": [],
}


def matrix_with(alarms: dict[str, Any]) -> Any:
    return parse_matrix({"rows": [{**MATRIX_ROW, "alarms": alarms}]})


def test_rows_matched_by_tags_need_configured_prefixes() -> None:
    # Given a row that knows its alarms by tag only (tags are not in the alarm event)
    matrix = matrix_with({"tags": {"team": "checkout"}})
    # When no prefix is configured, Then synth refuses, saying what to configure
    with pytest.raises(IntakeFilterError, match="intake_alarm_prefixes"):
        intake_alarm_detail(matrix)
    # And with one, alarms of that name are delivered
    detail = intake_alarm_detail(matrix, ["checkout-"])
    assert detail["alarmName"] == [{"prefix": "checkout-"}]


@pytest.mark.parametrize("prefix", ["rollback", "rollback-pipeline/RollbackPipeline/lambda", ""])
def test_a_prefix_that_covers_the_pipelines_own_alarms_is_refused(prefix: str) -> None:
    with pytest.raises(IntakeFilterError, match="pipeline's own alarms"):
        intake_alarm_detail(matrix_with({"name_prefixes": [prefix]}))


def test_exact_names_are_matched_exactly_and_a_pattern_too_large_is_refused() -> None:
    detail = intake_alarm_detail(matrix_with({"names": ["checkout-5xx"]}))
    assert detail["alarmName"] == ["checkout-5xx"]
    with pytest.raises(IntakeFilterError, match="characters"):
        intake_alarm_detail(matrix_with({"name_prefixes": [f"service-{i:03d}-5xx" for i in range(150)]}))
