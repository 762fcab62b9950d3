"""Closing out a rollback's record, against moto (faults injected into the clients' calls, answered as AWS would):
the incident's logs kept beside the record (bounded, once per rollback, a failed or slow query reported, never
raised), the error rate's peak over the incident window (a failed read is an unknown peak), and the incident the
alarm opened updated with the outcome (transient failures tried again, a lasting one reported)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.audit import AuditLog
from functions.adapters.incidents import IncidentStore
from functions.adapters.logs_insights import LogsInsights, QueryFailed
from functions.adapters.metrics import metric_series
from functions.adapters.record_store import store_logs
from functions.logic.closing import close_incident
from functions.logic.impact import error_rate_peak, error_rate_query, incident_window, peak_period
from functions.logic.preserved_logs import keep_incident_logs, preserve_logs
from functions.logic.report import build_report, notification_text
from functions.models.rollback import IncidentLogs, IncidentWindow, MetricQuery, RollbackRequest
from tests.support.aws_faults import answering
from tests.unit.test_report import APPROVAL, REQUEST, VERIFIED

GROUP = "/aws/containerinsights/skillancer-prod/application"
BUCKET = "records"
PREFIX = "records/skillancer/production/exec-1/"
IDENTITY = {"rollback_id": "exec-1", "service": "skillancer", "environment": "production"}
ERRORS = MetricQuery(name="API error rate", namespace="Skillancer/API", metric="5xxRate",
                     dimensions={"Service": "skillancer-api"}, period_seconds=60, below=0.1, unit="%")  # fmt: skip
LATENCY = MetricQuery(name="API p95 latency", namespace="Skillancer/API", metric="Latency", stat="p95", below=200,
                      unit="ms")  # fmt: skip


@dataclass
class FakeTime:
    """A monotonic clock that moves only when slept on: waits cost no real time."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Aws:
    logs: Any
    s3: Any
    dynamodb: Any
    cloudwatch: Any
    audit: AuditLog
    incidents: IncidentStore
    window: IncidentWindow


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto with the service's log group (events from 10 minutes before now), the records bucket, the audit and
    incidents tables."""
    with mock_aws():
        region = {"region_name": "us-east-1"}
        logs, s3 = boto3.client("logs", **region), boto3.client("s3", **region)
        dynamodb, cloudwatch = boto3.client("dynamodb", **region), boto3.client("cloudwatch", **region)
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="node-1")
        s3.create_bucket(Bucket=BUCKET)
        for table, keys in (("audit", ("rollback_id", "event_key")), ("incidents", ("incident_key",))):
            dynamodb.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
            )  # fmt: skip
        now = datetime.now(UTC).replace(microsecond=0)
        yield Aws(logs, s3, dynamodb, cloudwatch, AuditLog(dynamodb, "audit"), IncidentStore(dynamodb, "incidents"),
                  IncidentWindow(start=now - timedelta(minutes=10), end=now))  # fmt: skip


def log(aws: Aws, *messages: tuple[datetime, str]) -> None:
    events = [{"timestamp": int(at.timestamp() * 1000), "message": text} for at, text in messages]
    aws.logs.put_log_events(logGroupName=GROUP, logStreamName="node-1", logEvents=events)


def insights(aws: Aws, time: FakeTime) -> LogsInsights:
    return LogsInsights(aws.logs, sleep=time.sleep, clock=time.clock)


def run_with(aws: Aws, time: FakeTime) -> Any:
    return lambda groups, query, start, end: insights(aws, time).run(groups, query, start, end, 30)


def keep_with(aws: Aws) -> Any:
    return lambda body: store_logs(aws.s3, BUCKET, PREFIX, body)


def kept_file(aws: Aws) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=PREFIX + "logs.json")["Body"].read())
    return document


# --- the Logs Insights query ------------------------------------------------------------------------------------


def test_a_query_over_the_window_returns_its_rows_oldest_first_without_the_pointer(aws: Aws) -> None:
    # Given log lines before, inside and after the incident window
    start, end = aws.window.start, aws.window.end
    log(aws, (start - timedelta(minutes=1), "before"), (start + timedelta(seconds=5), "500 on /api/v1/jobs"),
        (end - timedelta(seconds=5), "200 on /api/v1/jobs"), (end + timedelta(minutes=1), "after"))  # fmt: skip
    time = FakeTime()
    # When the default query runs over the window
    results = insights(aws, time).run([GROUP], IncidentLogs(log_groups=[GROUP]).query, start, end, 30)
    # Then it returns the rows inside it, oldest first, as fields by name (Logs Insights' @ptr left out), at once
    assert [row["@message"] for row in results.rows] == ["500 on /api/v1/jobs", "200 on /api/v1/jobs"]
    assert set(results.rows[0]) == {"@timestamp", "@message", "@logStream"} and results.query_id
    assert time.slept == []


def test_a_throttled_start_is_tried_again_within_the_deadline(aws: Aws) -> None:
    # Given Logs Insights throttles the first two StartQuery calls
    log(aws, (aws.window.end - timedelta(seconds=5), "500 on /api/v1/jobs"))
    time = FakeTime()
    with answering(aws.logs, "StartQuery", error="ThrottlingException", message="Rate exceeded", times=2) as fault:
        # When the query runs
        results = insights(aws, time).run([GROUP], "fields @message", aws.window.start, aws.window.end, 30)
    # Then it was started on the third call, after backing off, and its rows came back
    assert (fault.calls, fault.passed) == (2, 1)
    assert time.slept == [1.0, 2.0]
    assert [row["@message"] for row in results.rows] == ["500 on /api/v1/jobs"]


def test_a_missing_log_group_fails_the_query_at_once_with_the_reason(aws: Aws) -> None:
    # When the query names a log group that does not exist
    time = FakeTime()
    with pytest.raises(QueryFailed) as failed:
        insights(aws, time).run(["/aws/nowhere"], "fields @message", aws.window.start, aws.window.end, 30)
    # Then it fails without waiting, saying why (a refusal is not worth a retry)
    assert str(failed.value).startswith("starting the query: ResourceNotFoundException")
    assert failed.value.query_id is None and time.slept == []


def test_a_query_still_running_at_the_deadline_fails_naming_the_query(aws: Aws) -> None:
    # Given Logs Insights says the query is still running, however often it is asked
    time = FakeTime()
    running = {"status": "Running", "results": []}
    with answering(aws.logs, "GetQueryResults", parsed=running) as reads, pytest.raises(QueryFailed) as failed:
        # When the query runs with 30 s to finish
        insights(aws, time).run([GROUP], "fields @message", aws.window.start, aws.window.end, 30)
    # Then it gives up at the deadline, having read at once and then once a second, naming the query whose results
    # can be read later
    assert failed.value.query_id is not None
    assert f"query {failed.value.query_id} still Running after 30 s" in str(failed.value)
    assert time.now == 30 and reads.calls == 31


def test_a_query_that_logs_insights_failed_is_reported_as_failed(aws: Aws) -> None:
    time = FakeTime()
    with answering(aws.logs, "GetQueryResults", parsed={"status": "Failed"}), pytest.raises(QueryFailed) as failed:
        insights(aws, time).run([GROUP], "fields @message", aws.window.start, aws.window.end, 30)
    assert str(failed.value).endswith("ended Failed") and time.slept == []


def test_a_transient_error_reading_the_results_is_read_again(aws: Aws) -> None:
    # Given the first read of the results fails with a server error
    log(aws, (aws.window.end - timedelta(seconds=5), "500 on /api/v1/jobs"))
    time = FakeTime()
    with answering(aws.logs, "GetQueryResults", error="ServiceUnavailableException", status=503, times=1):
        results = insights(aws, time).run([GROUP], "fields @message", aws.window.start, aws.window.end, 30)
    # Then the next read, a second later, has them
    assert [row["@message"] for row in results.rows] == ["500 on /api/v1/jobs"] and time.slept == [1.0]


# --- the logs kept beside the record -------------------------------------------------------------------------------


def test_the_incident_logs_are_kept_beside_the_record_and_remembered(aws: Aws) -> None:
    # Given the service's log lines during the incident
    log(aws, (aws.window.start + timedelta(seconds=5), "500 on /api/v1/jobs"),
        (aws.window.end - timedelta(seconds=5), "200 on /api/v1/jobs"))  # fmt: skip
    # When the logs are kept for the record
    kept = keep_incident_logs(
        IncidentLogs(log_groups=[GROUP]), aws.window, audit=aws.audit, events=[], identity=IDENTITY,
        run=run_with(aws, FakeTime()), store=keep_with(aws), now=aws.window.end,
    )  # fmt: skip
    # Then they are in logs.json beside the record, saying what was queried, over which window, row by row
    assert kept.url == f"s3://{BUCKET}/{PREFIX}logs.json" and (kept.rows, kept.truncated) == (2, False)
    document = kept_file(aws)
    assert {k: document[k] for k in ("rollback_id", "log_groups", "rows_returned", "rows_kept", "truncated")} == {
        "rollback_id": "exec-1", "log_groups": [GROUP], "rows_returned": 2, "rows_kept": 2, "truncated": False,
    }  # fmt: skip
    assert document["window"] == aws.window.model_dump(mode="json")
    assert [row["@message"] for row in document["results"]] == ["500 on /api/v1/jobs", "200 on /api/v1/jobs"]
    assert kept.detail == f"2 row(s) from {GROUP}"
    # And the audit trail remembers them
    assert [e["event"] for e in aws.audit.events("exec-1")] == ["logs preserved"]


def test_the_report_step_run_again_reuses_the_kept_logs_without_a_second_query(aws: Aws) -> None:
    # Given the logs were kept by a first run of the report step
    log(aws, (aws.window.end - timedelta(seconds=5), "500 on /api/v1/jobs"))
    config = IncidentLogs(log_groups=[GROUP])
    first = keep_incident_logs(config, aws.window, audit=aws.audit, events=[], identity=IDENTITY,
                               run=run_with(aws, FakeTime()), store=keep_with(aws), now=aws.window.end)  # fmt: skip
    # When the step runs again (a retry) with the rollback's audit events as they are now
    later = IncidentWindow(start=aws.window.start, end=aws.window.end + timedelta(minutes=1))
    again = keep_incident_logs(config, later, audit=aws.audit, events=aws.audit.events("exec-1"), identity=IDENTITY,
                               run=run_with(aws, FakeTime()), store=keep_with(aws), now=later.end)  # fmt: skip
    # Then it reports the same kept logs, and Logs Insights ran one query only
    assert again == first
    assert len(aws.logs.describe_queries(logGroupName=GROUP)["queries"]) == 1


def test_logs_over_the_size_cap_are_cut_and_the_file_and_the_report_say_so(aws: Aws) -> None:
    # Given 600 log lines of about 200 bytes each during the incident (some 150 kB as JSON)
    start = aws.window.start + timedelta(seconds=1)
    log(aws, *[(start + timedelta(milliseconds=i), f"{i:04d} " + "x" * 190) for i in range(600)])
    # When they are kept under a cap of 64 KiB
    kept = preserve_logs(IncidentLogs(log_groups=[GROUP]), aws.window, identity=IDENTITY, run=run_with(aws, FakeTime()),
                         store=keep_with(aws), max_bytes=64 * 1024)  # fmt: skip
    # Then the file stays under the cap with the first rows, and both the file and the report say what was left out
    body = aws.s3.get_object(Bucket=BUCKET, Key=PREFIX + "logs.json")["Body"].read()
    document = json.loads(body)
    assert len(body) <= 64 * 1024
    assert document["truncated"] is True and document["rows_returned"] == 600
    assert 0 < document["rows_kept"] == len(document["results"]) == kept.rows < 600
    assert document["results"][0]["@message"].startswith("0000 ")
    assert document["note"] == f"{600 - kept.rows} of 600 rows left out to keep this file under 65536 bytes"
    assert kept.truncated and f"{600 - kept.rows} more left out to keep the file under 65536 bytes" in kept.detail


def test_a_failed_query_is_reported_as_logs_not_preserved_and_nothing_is_remembered(aws: Aws) -> None:
    # When the configured log group does not exist
    kept = keep_incident_logs(
        IncidentLogs(log_groups=["/aws/nowhere"]), aws.window, audit=aws.audit, events=[], identity=IDENTITY,
        run=run_with(aws, FakeTime()), store=keep_with(aws), now=aws.window.end,
    )  # fmt: skip
    # Then the report says the logs were not preserved, and why; no file, nothing remembered (a retry tries again)
    assert kept.url is None and kept.detail.startswith("not preserved: starting the query: ResourceNotFoundException")
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert aws.audit.events("exec-1") == []


# --- the error rate's peak --------------------------------------------------------------------------------------


def test_the_error_rate_is_the_marked_query_else_the_first_that_says_error() -> None:
    marked = LATENCY.model_copy(update={"error_rate": True})
    assert error_rate_query([LATENCY, ERRORS]) == ERRORS  # its name says "error"
    assert error_rate_query([LATENCY, ERRORS, marked]) == marked
    faults = LATENCY.model_copy(update={"name": "Faults", "metric": "5XXError"})
    assert error_rate_query([LATENCY, faults]) == faults
    assert error_rate_query([LATENCY]) is None


def put_error_rates(aws: Aws, points: list[tuple[datetime, float]]) -> None:
    aws.cloudwatch.put_metric_data(
        Namespace="Skillancer/API",
        MetricData=[{"MetricName": "5xxRate", "Dimensions": [{"Name": "Service", "Value": "skillancer-api"}],
                     "Timestamp": at, "Value": value} for at, value in points],
    )  # fmt: skip


def test_the_peak_is_the_highest_error_rate_of_the_window_and_when_it_was(aws: Aws) -> None:
    # Given the error rate per minute: normal, a spike to 31.5 %, recovering, and a higher one after the window
    start = aws.window.start
    minute = [start + timedelta(minutes=m, seconds=30) for m in range(12)]
    put_error_rates(aws, [(minute[0], 0.02), (minute[3], 31.5), (minute[4], 12.0), (minute[6], 0.02),
                          (minute[11], 50.0)])  # fmt: skip
    # When the peak is read over the window
    peak = error_rate_peak(ERRORS, lambda q, s, e: metric_series(aws.cloudwatch, q, s, e), aws.window)
    # Then it is 31.5 % in the fourth minute (the period it fell in), and the detail says how it was read
    assert peak.value == 31.5 and peak.at == start + timedelta(minutes=3)
    assert peak.detail.startswith(f"31.5% at {peak.at:%H:%M:%S} UTC (API error rate, Average per 60 s, ")


def test_a_failed_metrics_read_leaves_the_peak_unknown_with_the_reason(aws: Aws) -> None:
    # Given CloudWatch refuses the read
    with answering(aws.cloudwatch, "GetMetricData", error="AccessDenied", message="not authorized", status=403):
        peak = error_rate_peak(ERRORS, lambda q, s, e: metric_series(aws.cloudwatch, q, s, e), aws.window)
    # Then the peak is unknown, saying why (the record is written all the same)
    assert peak.value is None and peak.detail == "unknown (API error rate: AccessDenied: not authorized)"


def test_a_window_of_days_is_read_at_a_coarser_period_not_one_point_a_second() -> None:
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    per_second = ERRORS.model_copy(update={"period_seconds": 1})
    assert peak_period(per_second, incident_window(now - timedelta(minutes=5), 300, now)) == 1
    assert peak_period(per_second, incident_window(now - timedelta(days=2), 300, now)) == 180
    assert peak_period(ERRORS, incident_window(now - timedelta(days=2), 300, now)) == 180


# --- the incident the alarm opened -----------------------------------------------------------------------------


KEEP = datetime(2027, 12, 30, tzinfo=UTC)  # how long a closed incident is kept


def open_incident(aws: Aws, execution_name: str = "exec-1", now: datetime | None = None) -> None:
    aws.incidents.open_or_attach("skillancer#production", alarm_id="api-5xx@t0", execution_name=execution_name,
                                 scenario="Complete platform outage", now=now or datetime.now(UTC),
                                 window=timedelta(hours=1))  # fmt: skip


def incident_item(aws: Aws) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb.get_item(
        TableName="incidents", Key={"incident_key": {"S": "skillancer#production"}}
    )["Item"]
    return item


def succeeded_report() -> Any:
    state = {"request": REQUEST, "approval": APPROVAL, "verification": VERIFIED}
    report = build_report(outcome="SUCCEEDED", execution_arn="arn:exec-1", execution_name="exec-1", state=state,
                          changes=[], history=[], rto_target_seconds=900, now=datetime.now(UTC))  # fmt: skip
    return report.model_copy(update={"record_url": f"s3://{BUCKET}/{PREFIX}"})


def test_an_alarm_started_rollback_writes_its_outcome_rto_rpo_and_record_onto_its_incident(aws: Aws) -> None:
    # Given the incident intake opened for the alarm, and the rollback's report
    open_incident(aws)
    request, report = RollbackRequest.model_validate(REQUEST), succeeded_report()
    time = FakeTime()
    # When the incident is closed out, twice (the report step may run again)
    first = close_incident(aws.incidents, request, report, "exec-1", sleep=time.sleep, keep_until=KEEP)
    again = close_incident(aws.incidents, request, report, "exec-1", sleep=time.sleep, keep_until=KEEP)
    # Then the incident holds the outcome, RTO, RPO and the record's address, the same after the second run
    assert first == again and first is not None and first.updated
    item = incident_item(aws)
    assert (item["rollback_outcome"], item["rollback_id"]) == ({"S": "SUCCEEDED"}, {"S": "exec-1"})
    assert float(item["rto_seconds"]["N"]) == report.rto_seconds == 300.0
    assert float(item["rpo_seconds"]["N"]) == 0.0 and item["record_url"] == {"S": f"s3://{BUCKET}/{PREFIX}"}
    assert item["alarms"] == {"L": [{"S": "api-5xx@t0"}]}  # what intake wrote stays
    # And the closed incident is kept as an item of its own until KEEP, once however often it is closed out
    closed = aws.incidents.closed_incident("skillancer#production", item["opened_at"]["S"])
    assert closed is not None and closed["expires_at"] == {"N": str(int(KEEP.timestamp()))}
    assert {k: v for k, v in closed.items() if k not in ("incident_key", "expires_at", "open_incident_key")} == {
        k: v for k, v in item.items() if k not in ("incident_key", "expires_at")
    }
    assert aws.dynamodb.scan(TableName="incidents")["Count"] == 2


def test_a_closed_incident_outlives_the_next_incident_of_the_service(aws: Aws) -> None:
    # Given an incident closed out an hour and more ago (its window over)
    opened = datetime.now(UTC) - timedelta(hours=2)
    open_incident(aws, now=opened)
    close_incident(aws.incidents, RollbackRequest.model_validate(REQUEST), succeeded_report(), "exec-1",
                   sleep=FakeTime().sleep, keep_until=KEEP)  # fmt: skip
    # When the next alarm of the service opens a new incident (replacing the open incident's item)
    open_incident(aws, execution_name="exec-2")
    assert "rollback_outcome" not in incident_item(aws)
    # Then the first incident, its outcome and RTO are still there
    closed = aws.incidents.closed_incident("skillancer#production", opened.isoformat())
    assert closed is not None and closed["rollback_outcome"] == {"S": "SUCCEEDED"}
    assert float(closed["rto_seconds"]["N"]) == 300.0 and closed["execution_name"] == {"S": "exec-1"}


def test_a_rollback_started_by_hand_has_no_incident_to_update(aws: Aws) -> None:
    manual = RollbackRequest.model_validate({**REQUEST, "alarm": None})
    assert (
        close_incident(aws.incidents, manual, succeeded_report(), "exec-1", sleep=FakeTime().sleep, keep_until=KEEP)
        is None
    )
    assert aws.dynamodb.scan(TableName="incidents")["Count"] == 0


def test_an_incident_update_that_fails_transiently_is_tried_again(aws: Aws) -> None:
    # Given DynamoDB throttles the first two updates of the incident
    open_incident(aws)
    time = FakeTime()
    throttled = {"error": "ProvisionedThroughputExceededException", "times": 2, "only_if": {"TableName": "incidents"}}
    with answering(aws.dynamodb, "UpdateItem", **throttled) as fault:
        update = close_incident(aws.incidents, RollbackRequest.model_validate(REQUEST), succeeded_report(), "exec-1",
                                sleep=time.sleep, keep_until=KEEP)  # fmt: skip
    # Then the third try updated it, after backing off
    assert update is not None and update.updated and (fault.calls, fault.passed) == (2, 1)
    assert time.slept == [0.5, 1.0] and incident_item(aws)["rollback_outcome"] == {"S": "SUCCEEDED"}


def test_an_incident_update_that_keeps_failing_is_reported_not_raised(aws: Aws) -> None:
    open_incident(aws)
    with answering(aws.dynamodb, "UpdateItem", error="InternalServerError", status=500):
        update = close_incident(aws.incidents, RollbackRequest.model_validate(REQUEST), succeeded_report(), "exec-1",
                                sleep=FakeTime().sleep, keep_until=KEEP)  # fmt: skip
    assert update is not None and not update.updated
    assert update.detail == "not updated: InternalServerError"
    assert "rollback_outcome" not in incident_item(aws)
    assert aws.dynamodb.scan(TableName="incidents")["Count"] == 1  # nothing kept as closed


def test_an_incident_that_names_another_rollback_is_left_as_it_is(aws: Aws) -> None:
    # Given the incident now belongs to a later rollback of the same service (the first one's expired)
    open_incident(aws, execution_name="exec-2")
    update = close_incident(aws.incidents, RollbackRequest.model_validate(REQUEST), succeeded_report(), "exec-1",
                            sleep=FakeTime().sleep, keep_until=KEEP)  # fmt: skip
    assert update is not None and not update.updated and "no longer names this rollback" in update.detail
    assert "rollback_outcome" not in incident_item(aws)


# --- the report --------------------------------------------------------------------------------------------------


def test_the_post_mortem_impact_states_the_error_rate_peak_and_links_the_kept_logs(aws: Aws) -> None:
    # Given the peak and the kept logs of a succeeded rollback
    put_error_rates(aws, [(aws.window.start + timedelta(minutes=2), 31.5)])
    peak = error_rate_peak(ERRORS, lambda q, s, e: metric_series(aws.cloudwatch, q, s, e), aws.window)
    log(aws, (aws.window.end - timedelta(seconds=5), "500 on /api/v1/jobs"))
    kept = preserve_logs(IncidentLogs(log_groups=[GROUP]), aws.window, identity=IDENTITY,
                         run=run_with(aws, FakeTime()), store=keep_with(aws))  # fmt: skip
    # When the report is built with them
    state = {"request": REQUEST, "approval": APPROVAL, "verification": VERIFIED}
    report = build_report(outcome="SUCCEEDED", execution_arn="arn:exec-1", execution_name="exec-1", state=state,
                          changes=[], history=[], rto_target_seconds=900, now=aws.window.end,
                          error_rate_peak=peak, logs=kept)  # fmt: skip
    # Then the post-mortem's impact names the peak, its evidence links the logs, and so does the notification
    impact = report.post_mortem_markdown.split("## Impact")[1].split("##")[0]
    assert f"- Error rate peak: 31.5% at {peak.at:%H:%M:%S} UTC (API error rate" in impact
    assert "- Data affected: No" in impact
    assert f"- Logs of the incident window: s3://{BUCKET}/{PREFIX}logs.json (1 row(s) from {GROUP}; " in (
        report.post_mortem_markdown
    )
    _, text = notification_text(report)
    assert f"Logs of the incident: s3://{BUCKET}/{PREFIX}logs.json" in text and "Error rate peak: 31.5%" in text


def test_logs_not_preserved_and_an_unknown_peak_are_said_in_the_post_mortem(aws: Aws) -> None:
    with answering(aws.cloudwatch, "GetMetricData", error="Throttling", status=400):
        peak = error_rate_peak(ERRORS, lambda q, s, e: metric_series(aws.cloudwatch, q, s, e), aws.window)
    kept = preserve_logs(IncidentLogs(log_groups=["/aws/nowhere"]), aws.window, identity=IDENTITY,
                         run=run_with(aws, FakeTime()), store=keep_with(aws))  # fmt: skip
    state = {"request": REQUEST, "approval": APPROVAL, "verification": VERIFIED}
    report = build_report(outcome="SUCCEEDED", execution_arn="arn:exec-1", execution_name="exec-1", state=state,
                          changes=[], history=[], rto_target_seconds=900, now=aws.window.end,
                          error_rate_peak=peak, logs=kept)  # fmt: skip
    assert "- Error rate peak: unknown (API error rate: Throttling)" in report.post_mortem_markdown
    assert "- Logs of the incident window: NOT preserved (" in report.post_mortem_markdown
    assert "): starting the query: ResourceNotFoundException" in report.post_mortem_markdown
