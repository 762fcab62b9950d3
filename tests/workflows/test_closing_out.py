"""Closing out the record on the emulators (runbook "Post-Rollback Actions"): the service's logs of the incident
window kept beside the record and linked, the error rate's peak in the post-mortem's impact, and the incident the
alarm opened holding the outcome, RTO, RPO and record; a query that fails leaves the rollback as it ended, saying
so; a report step run again queries nothing twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from functions.closing_out import incidents_client
from local.pipeline import LocalPipeline, rollback_input
from tests.support.aws_faults import answering
from tests.support.events import alarm_state_change
from tests.workflows.test_idempotency import run_again, scheduled
from tests.workflows.test_kubernetes_app import approve_on_call_and_lead

LOG_GROUP = "/aws/containerinsights/skillancer-prod/application"


def start_from_alarm(pipeline: LocalPipeline) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    (outcome,) = pipeline.fire_alarm(alarm_state_change(at=now))["outcomes"]
    assert outcome["action"] == "started", outcome
    return str(outcome["execution_arn"])


def kept_logs(url: str) -> dict[str, Any]:
    bucket, key = url.removeprefix("s3://").split("/", 1)
    document: dict[str, Any] = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return document


def incident(pipeline: LocalPipeline) -> dict[str, Any]:
    item: dict[str, Any] = pipeline.dynamodb.get_item(
        TableName=pipeline.deployment.table_name("StateIncidents"),
        Key={"incident_key": {"S": "skillancer#production"}},
    )["Item"]
    return item


def logs_queries() -> int:
    return len(boto3.client("logs").describe_queries(logGroupName=LOG_GROUP)["queries"])


def test_an_alarm_started_rollback_keeps_the_incident_logs_and_closes_out_its_incident(
    pipeline: LocalPipeline,
) -> None:
    # Given the API's 5xx alarm started the rollback of the broken release, and DynamoDB throttles the first two
    # updates of the incident
    incidents = pipeline.deployment.table_name("StateIncidents")
    with answering(incidents_client(), "UpdateItem", error="ProvisionedThroughputExceededException", times=2,
                   only_if={"TableName": incidents}) as throttled:  # fmt: skip
        execution = start_from_alarm(pipeline)
        # When it is approved, rolls back and recovers
        approve_on_call_and_lead(pipeline, execution)
        result = pipeline.wait(execution)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    report = json.loads(result["output"])
    # Then the service's logs of the incident window are kept beside the record: the 500s, then the 200s
    logs = report["logs"]
    assert logs["url"] == report["record_url"] + "logs.json" and logs["rows"] > 0 and not logs["truncated"]
    document = kept_logs(logs["url"])
    assert document["log_groups"] == [LOG_GROUP] and document["rows_kept"] == logs["rows"]
    statuses = [json.loads(json.loads(row["@message"])["log"])["status"] for row in document["results"]]
    assert statuses[0] == 500 and statuses[-1] == 200
    # And the post-mortem's impact states the error rate's peak, from the service's own metrics
    assert report["error_rate_peak"]["value"] == 31.5
    assert "- Error rate peak: 31.5% at " in report["post_mortem_markdown"]
    # And the incident the alarm opened holds the outcome, RTO, RPO and where the record is (the throttled updates
    # were tried again)
    assert throttled.calls == 2 and report["incident"]["updated"] is True
    item = incident(pipeline)
    assert item["rollback_outcome"] == {"S": "SUCCEEDED"} and item["record_url"] == {"S": report["record_url"]}
    assert float(item["rto_seconds"]["N"]) == report["rto_seconds"] and float(item["rpo_seconds"]["N"]) == 0.0
    # And the final notification links the logs and says the incident was closed out
    (final,) = [e for e in pipeline.notifications.fetch() if "Rollback SUCCEEDED" in e.subject]
    assert f"Logs of the incident: {logs['url']} ({logs['rows']} row(s) from {LOG_GROUP}" in final.body
    assert "Incident skillancer#production: outcome, RTO, RPO and record written onto the incident" in final.body

    # When the report step runs again with the input it had (a retry)
    (step_input,) = scheduled(pipeline, execution, "FunctionsWriteReport")
    again = run_again(pipeline, "FunctionsWriteReport", step_input)
    # Then it reports the same kept logs without querying again, and the incident is as it was
    assert again["logs"] == logs and logs_queries() == 1
    assert incident(pipeline) == item


def test_logs_that_cannot_be_queried_leave_the_rollback_succeeded_and_the_record_says_why(
    pipeline: LocalPipeline,
) -> None:
    # Given the service's log group is gone (its agent stopped, the group deleted)
    pipeline.service_logs.__exit__(None, None, None)
    boto3.client("logs").delete_log_group(logGroupName=LOG_GROUP)
    # When a rollback started by hand recovers the service
    execution = pipeline.start(rollback_input(), name="logs-gone")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it succeeded, and its record says the logs were not preserved and why; no incident to close out
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    report = json.loads(result["output"])
    assert report["logs"]["url"] is None and report["incident"] is None
    assert report["logs"]["detail"].startswith("not preserved: starting the query: ResourceNotFoundException")
    assert "- Logs of the incident window: NOT preserved (" in report["post_mortem_markdown"]
    bucket, prefix = report["record_url"].removeprefix("s3://").split("/", 1)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert sorted(key.removeprefix(prefix) for key in keys) == ["post-mortem.md", "report.json", "timeline.md"]
    (final,) = [e for e in pipeline.notifications.fetch() if "Rollback SUCCEEDED" in e.subject]
    assert "Logs of the incident: NOT preserved (" in final.body and "ResourceNotFoundException" in final.body


def test_a_stopped_rollback_from_an_alarm_is_closed_out_by_the_clean_up(pipeline: LocalPipeline) -> None:
    # Given a rollback the alarm started, waiting for approval
    execution = start_from_alarm(pipeline)
    pipeline.wait_for_state(execution, "Request approval")
    # When the on-call stops it
    cleaned = pipeline.stop(execution)
    # Then the clean-up's report keeps the incident's logs and closes out the incident as ABORTED
    assert cleaned["reported"] is True
    report = pipeline.recorded_report(execution.rsplit(":", 1)[-1])
    assert report is not None and report["status"] == "ABORTED"
    assert report["logs"]["url"] == report["record_url"] + "logs.json" and report["logs"]["rows"] > 0
    item = incident(pipeline)
    assert item["rollback_outcome"] == {"S": "ABORTED"} and item["record_url"] == {"S": report["record_url"]}
    assert "rto_seconds" not in item and "rpo_seconds" not in item
