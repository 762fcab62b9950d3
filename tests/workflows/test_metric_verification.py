"""Verification reads the service's own CloudWatch metrics (moto stores what the emulated service publishes): a
rollback whose metrics recover is verified with the values in its record; one whose metrics never recover fails
at the verification deadline, naming each failing check with what was observed and its threshold."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.pipeline import LocalPipeline, rollback_input
from local.synth import Synthesized
from tests.workflows.test_kubernetes_app import approve_on_call_and_lead


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """A verification window of 15 s of real time (the metrics are read at real time, not the emulated clock)."""
    with LocalPipeline(synthesized, environment={"VERIFY_TIMEOUT_SECONDS": "15"}) as running:
        yield running


def test_recovered_metrics_verify_the_rollback_and_are_recorded(pipeline: LocalPipeline) -> None:
    # When the broken release is rolled back and the API's errors and latency follow it back to normal
    execution = pipeline.start(rollback_input(), name="metrics-ok")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it is verified, and the metrics it was verified on are in its state: under their thresholds
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    events = pipeline.aws.execution_events(execution)
    verified = [
        json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
        for e in events
        if e["type"] == "LambdaFunctionSucceeded" and '"metrics"' in e["lambdaFunctionSucceededEventDetails"]["output"]
    ][-1]
    assert verified["healthy"] is True
    observed = {m["name"]: (m["observed"], m["threshold"]) for m in verified["metrics"]}
    assert observed == {"API error rate": (pytest.approx(0.02), 0.1), "API p95 latency": (120.0, 200.0)}


def test_metrics_that_never_recover_fail_the_rollback_naming_the_check(pipeline: LocalPipeline) -> None:
    # Given a rollback that brings the health endpoints back but not the error rate (say, a bad database)
    pipeline.metrics.hold(error_rate=4.2, latency_ms=150.0)
    execution = pipeline.start(rollback_input(), name="metrics-bad")
    approve_on_call_and_lead(pipeline, execution)
    result = pipeline.wait(execution)
    # Then it fails at the deadline as unhealthy, naming the error rate with its value and threshold
    assert (result["status"], result["error"]) == ("FAILED", "ServiceUnhealthy"), result
    assert "API error rate: worst of" in result["cause"] and "4.2% (must stay below 0.1%)" in result["cause"]
    assert "API p95 latency" not in result["cause"]
    # And the lock is released and the failure reported
    assert pipeline.lock_holder() is None
    assert any("FAILED" in e.subject for e in pipeline.notifications.fetch())


def test_the_achieved_rto_is_published_as_a_metric_by_service_environment_and_type(pipeline: LocalPipeline) -> None:
    import boto3

    # When a rollback succeeds
    execution = pipeline.start(rollback_input(), name="rto-metric")
    approve_on_call_and_lead(pipeline, execution)
    report = json.loads(pipeline.wait(execution)["output"])
    # Then its RTO (and that it lost no data) are in CloudWatch, from the report step's embedded-metric log line
    dimensions = [
        {"Name": "service", "Value": "skillancer"},
        {"Name": "environment", "Value": "production"},
        {"Name": "rollback_type", "Value": "kubernetes_app"},
    ]
    cloudwatch = boto3.client("cloudwatch")
    for metric, expected in (("RTOSeconds", report["rto_seconds"]), ("RPOSeconds", 0.0), ("RollbacksSucceeded", 1)):
        stats = cloudwatch.get_metric_statistics(
            Namespace="rollback-pipeline", MetricName=metric, Dimensions=dimensions, Statistics=["Maximum"],
            StartTime=report["timeline"][0]["at"], EndTime="2100-01-01T00:00:00Z", Period=3600,
        )["Datapoints"]  # fmt: skip
        assert [round(point["Maximum"], 3) for point in stats] == [round(expected, 3)], metric


def test_the_record_is_kept_in_the_records_bucket_and_linked_from_the_notification(pipeline: LocalPipeline) -> None:
    import boto3

    # When a rollback succeeds
    execution = pipeline.start(rollback_input(), name="kept-record")
    approve_on_call_and_lead(pipeline, execution)
    report = json.loads(pipeline.wait(execution)["output"])
    # Then its record is in the versioned records bucket: the report, the post-mortem draft, the timeline and the
    # service's logs of the incident window
    bucket = pipeline.deployment.find("AWS::S3::Bucket", "RecordsBucket").physical_id
    prefix = "records/skillancer/production/kept-record/"
    assert report["record_url"] == f"s3://{bucket}/{prefix}"
    s3 = boto3.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert keys == [prefix + name for name in ("logs.json", "post-mortem.md", "report.json", "timeline.md")]
    kept = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "report.json")["Body"].read())
    assert kept["changes"] == report["changes"] and kept["rto_seconds"] == report["rto_seconds"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # And the final notification links it
    (final,) = [e for e in pipeline.notifications.fetch() if "Rollback SUCCEEDED" in e.subject]
    assert f"Record (report, post-mortem draft, timeline): s3://{bucket}/{prefix}" in final.body
