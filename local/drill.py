"""Rollback drill: a full rehearsal of a rollback on the embedded emulators.

    python -m local.drill --scenario kubernetes_app|database_pitr|database_snapshot|feature_flag|infrastructure|edge
                          [--approve auto|reject|interactive] [--out DIR]

Starts the emulators, deploys the synthesized stack into them, stages the scenario (local/scenarios.py: a broken
release on the fake cluster, or a corrupted database on a real PostgreSQL behind moto's RDS), raises its
CloudWatch alarm and delivers the state-change event to intake (or starts the rollback as an operator would),
prints the approval links, approves (or rejects, or waits for you), shows each state as it happens and writes
DIR/report.json and DIR/report.md. Exits 0 only when the rollback succeeded and the world is as it should be
afterwards, or when --approve reject ended as rejected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from functions.adapters.incidents import closed_incident_key
from functions.rollbacks.registry import ROLLBACK_TYPES
from local import approver
from local.pipeline import LocalPipeline
from local.scenarios import SCENARIOS as STAGES
from local.scenarios import Staged
from local.synth import Synthesized, synthesize

# Rollback types (from the registry) whose rehearsal the emulators can stage (local/scenarios.py).
SCENARIOS = tuple(name for name in ROLLBACK_TYPES if name in STAGES)
INCIDENT_FIELDS = ("rollback_outcome", "rto_seconds", "rpo_seconds", "record_url")


def say(text: str = "") -> None:
    print(text, flush=True)


class Progress:
    """Prints each state of the execution once, as it is entered, with the time since the start."""

    def __init__(self, pipeline: LocalPipeline, execution_arn: str) -> None:
        self._pipeline = pipeline
        self._arn = execution_arn
        self._seen = 0
        self._start = time.monotonic()
        self._printed: set[str] = set()

    def poll(self) -> list[str]:
        events = self._pipeline.aws.execution_events(self._arn)
        new, self._seen = events[self._seen :], len(events)
        names = []
        for event in new:
            if event["type"].endswith("StateEntered"):
                name = event["stateEnteredEventDetails"]["name"]
                names.append(name)
                if name not in self._printed or name.startswith("Check"):
                    if name not in self._printed:
                        say(f"  +{time.monotonic() - self._start:6.2f}s  {name}")
                    self._printed.add(name)
            elif event["type"] == "LambdaFunctionSucceeded":
                self._verification_poll(event["lambdaFunctionSucceededEventDetails"].get("output") or "")
            elif event["type"] in ("ExecutionFailed", "ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut"):
                say(f"  +{time.monotonic() - self._start:6.2f}s  {event['type'].removeprefix('Execution').upper()}")
        return names

    def _verification_poll(self, output: str) -> None:
        """One verification sample as it happened: each check with what it saw (and the threshold)."""
        if '"consecutive_healthy"' not in output:
            return
        sample = json.loads(output)
        checks = [f"{c['url'].rsplit('/', 2)[-2]} {c['status'] or c['status_code']}" for c in sample["checks"]]
        checks += [
            f"{m['name']} "
            + ("no whole period yet" if m["observed"] is None else f"{m['observed']:g}{m['unit']}")
            + f" (< {m['threshold']:g}{m['unit']})"
            for m in sample.get("metrics", [])
        ]
        verdict = "healthy" if sample["healthy"] else f"{sample['consecutive_healthy']} good in a row"
        say(f"            verification poll {sample['attempt']}: {'; '.join(checks)} -> {verdict}")


def handle_approvals(pipeline: LocalPipeline, mode: str, approvers: tuple[str, ...]) -> None:
    clicks = [approvers[-1]] if mode == "reject" else list(approvers)
    links = {recipient: pipeline.link_for(recipient) for recipient in clicks}
    say(f"  [approval] {len(pipeline.approval_emails.received)} approval email(s) sent through SES, one per approver:")
    for email in pipeline.approval_emails.received:
        say(f"     to {email.recipient}: {email.subject!r} {email.links[0]}")
    if mode == "interactive":
        say("  [approval] open a link above in a browser on this machine to approve or reject; waiting...")
        return
    decision = "reject" if mode == "reject" else "approve"
    for recipient, link in links.items():
        page = approver.view(link)
        say(f"  [approval] {recipient} opens the page (HTTP {page.status}): {page.text[:90]}...")
        result = approver.decide(link, decision, comment=f"drill: {decision}d by script")
        say(f"  [approval] {recipient} {decision}s (HTTP {result.status}): {result.text}")


def write_report(out: Path, report: dict[str, Any], scenario: str, mode: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "scenario": report["scenario"],
        "status": report["status"],
        "execution_arn": report["execution_arn"],
        "timeline": report["timeline"],
        "rto_seconds": report["rto_seconds"],
        "rto_target_seconds": report["rto_target_seconds"],
        "rto_met": report["rto_met"],
        "approvals": report["approvals"],
        "changes": report["changes"],
        "rpo_seconds": report["rpo_seconds"],
        "drill": {"rollback_type": scenario, "approve": mode},
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    header = f"> Drill of the `{scenario}` rollback on the embedded emulators (approve: {mode}).\n\n"
    (out / "report.md").write_text(header + report["post_mortem_markdown"])


def run(scenario: str, mode: str, out: Path, time_scale: float, synthesized: Synthesized | None = None) -> int:
    say(f"Rollback drill: {scenario} (approve: {mode})")
    if synthesized is None:
        say("  synthesizing the stack...")
        synthesized = synthesize()
    with LocalPipeline(synthesized, wait_scale=time_scale, serve_aws=True) as pipeline:
        say(f"  [emulators] Kubernetes API {pipeline.kube.url}; AWS (moto) {pipeline.aws.endpoint_url}")
        say(f"  [emulators] approval page {pipeline.gateway.base_url}")
        with ExitStack() as stack:
            staged = STAGES[scenario](pipeline, stack, say)
            if staged is None:
                say("  intake did not start a rollback")
                return 1
            return follow(pipeline, staged, scenario, mode, out)


def follow(pipeline: LocalPipeline, staged: Staged, scenario: str, mode: str, out: Path) -> int:
    """Follows the started rollback to its end, approving as ``mode`` says; writes and checks the outcome."""
    execution_arn = staged.execution_arn
    progress = Progress(pipeline, execution_arn)
    approvals_handled = False
    while pipeline.describe(execution_arn)["status"] == "RUNNING":
        entered = progress.poll()
        if not approvals_handled and "Request approval" in entered:
            handle_approvals(pipeline, mode, staged.approvers)
            approvals_handled = True
        time.sleep(0.05)
    progress.poll()
    for message in pipeline.slack.messages:
        say(f"  [war room, Slack] {message['text']}")
    for incident in pipeline.statuspage.incidents.values():
        say(f"  [status page] {incident['name']} ({incident['status']}, impact {incident['impact_override']})")
        for update in incident.get("incident_updates", []):
            say(f"     {update['status']}: {update['body']}")
    status = pipeline.describe(execution_arn)["status"]
    report = pipeline.recorded_report(execution_arn.rsplit(":", 1)[-1])
    verified = mode == "reject" or staged.check()
    if report is None:
        say(f"  execution {status}, but no report was recorded")
        return 1
    write_report(out, report, scenario, mode)
    say(f"  [report] {out / 'report.json'} and {out / 'report.md'}")
    if report.get("record_url"):
        say(f"  [record] kept in {report['record_url']}: {', '.join(kept_record(report['record_url']))}")
    for line in closing_out(pipeline, report):
        say(line)
    for metric, value in recovery_metrics(report).items():
        say(f"  [CloudWatch] rollback-pipeline {metric} = {value:g}")
    rto, rpo = report["rto_seconds"], report["rpo_seconds"]
    say(
        f"Result: {report['status']}"
        + (f"; RTO {rto:.1f} s of {report['rto_target_seconds']} s budget" if rto is not None else "")
        + (f"; RPO {rpo:.0f} s" if rpo is not None else "")
        + "; changes: "
        + (
            ", ".join(f"{c['target']} {c['before']} -> {c['after']} ({c['status']})" for c in report["changes"])
            or "none"
        )
    )
    for change in report["changes"]:
        say(f"  [record] {change['target']}: {change['detail']}")
    expected = "REJECTED" if mode == "reject" else "SUCCEEDED"
    return 0 if report["status"] == expected and verified else 1


def closing_out(pipeline: LocalPipeline, report: dict[str, Any]) -> list[str]:
    """What the record closed out: the incident's logs kept in the records bucket, the error rate's peak, and the
    incident the alarm opened as the incidents table now holds it."""
    lines = []
    logs = report.get("logs")
    if logs and logs.get("url"):
        window = f"{logs['window']['start'][11:19]}-{logs['window']['end'][11:19]} UTC"
        groups = ", ".join(logs["log_groups"])
        lines.append(f"  [logs] {logs['rows']} row(s) of {groups} ({window}) kept in {logs['url']}")
    elif logs:
        lines.append(f"  [logs] {logs['detail']}")
    if report.get("error_rate_peak"):
        lines.append(f"  [impact] error rate peak: {report['error_rate_peak']['detail']}")
    if report.get("incident"):
        key = report["incident"]["key"]
        item = pipeline.dynamodb.get_item(
            TableName=pipeline.deployment.table_name("StateIncidents"), Key={"incident_key": {"S": key}}
        ).get("Item", {})
        written = ", ".join(f"{name} {next(iter(item[name].values()))}" for name in INCIDENT_FIELDS if name in item)
        lines.append(f"  [incident] {key}: {report['incident']['detail']}; the table holds {written or 'none of it'}")
        closed = closed_incident_key(key, item["opened_at"]["S"]) if "opened_at" in item else None
        kept = closed and pipeline.dynamodb.get_item(
            TableName=pipeline.deployment.table_name("StateIncidents"), Key={"incident_key": {"S": closed}}
        ).get("Item")
        if kept:
            until = datetime.fromtimestamp(int(kept["expires_at"]["N"]), UTC).date().isoformat()
            lines.append(f"  [incident] kept closed as {closed} until {until}")
    return lines


def kept_record(url: str) -> list[str]:
    bucket, prefix = url.removeprefix("s3://").split("/", 1)
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [item["Key"].removeprefix(prefix) for item in listed]


def recovery_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The RTO and RPO the report step published (embedded metric format, read back from CloudWatch)."""
    cloudwatch = boto3.client("cloudwatch")
    found = {}
    for metric in ("RTOSeconds", "RPOSeconds"):
        points = cloudwatch.get_metric_statistics(
            Namespace="rollback-pipeline", MetricName=metric, Statistics=["Maximum"], Period=3600,
            StartTime=report["timeline"][0]["at"], EndTime="2100-01-01T00:00:00Z",
            Dimensions=[{"Name": "service", "Value": report["service"]},
                        {"Name": "environment", "Value": report["environment"]},
                        {"Name": "rollback_type", "Value": report.get("rollback_type") or ""}],
        )["Datapoints"]  # fmt: skip
        if points:
            found[metric] = points[-1]["Maximum"]
    return found


def main(argv: list[str] | None = None) -> int:
    # The functions' own logs go to CloudWatch in AWS; here only warnings would add to the drill's story.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    parser = argparse.ArgumentParser(prog="python -m local.drill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=SCENARIOS, default="kubernetes_app")
    parser.add_argument("--approve", choices=("auto", "reject", "interactive"), default="auto")
    parser.add_argument("--out", type=Path, default=Path("drill-out"))
    parser.add_argument(
        "--time-scale", type=float, default=0.05, help="Emulated Wait/Retry seconds per real second (default 0.05)"
    )
    args = parser.parse_args(argv)
    return run(args.scenario, args.approve, args.out, args.time_scale)


if __name__ == "__main__":
    sys.exit(main())
