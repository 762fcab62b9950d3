"""Rollback drill: a full rehearsal of a rollback on the embedded emulators.

    python -m local.drill --scenario kubernetes_app [--approve auto|reject|interactive] [--out DIR]

Starts the emulators, deploys the synthesized stack into them, seeds skillancer-web and skillancer-api with
v1.0.0-rc.4, v1.0.0-rc.5 and a broken v1.0.0, raises a CloudWatch alarm and delivers its state-change event to
intake, prints the approval links, approves (or rejects, or waits for you), shows each state as it happens
and writes DIR/report.json and DIR/report.md. Exits 0 only when the rollback succeeded and verification
passed, or when --approve reject ended as rejected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from functions.rollbacks.registry import ROLLBACK_TYPES
from local import approver
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized, synthesize

# Rollback types (from the registry) whose rehearsal the emulators can stage: the fake cluster stages kubernetes_app.
SCENARIOS = tuple(name for name in ROLLBACK_TYPES if name in ("kubernetes_app",))
ALARM_NAME = "skillancer-api-5xx-rate"
AUTO_APPROVERS = ("oncall-primary@skillancer.com", "eng-lead@skillancer.com")
REJECTER = "eng-lead@skillancer.com"


def say(text: str = "") -> None:
    print(text, flush=True)


def raise_alarm(pipeline: LocalPipeline) -> dict[str, Any]:
    """Create the API's 5xx alarm in CloudWatch, push it into ALARM, and build the EventBridge event CloudWatch
    would emit for that transition (moto does not emit it)."""
    cloudwatch: Any = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM_NAME,
        Namespace="Skillancer/API",
        MetricName="5xxRate",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=2,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    reason = "Threshold Crossed: 2 datapoints [31.5, 28.0] were greater than the threshold (5.0)."
    cloudwatch.set_alarm_state(AlarmName=ALARM_NAME, StateValue="ALARM", StateReason=reason)
    alarm = cloudwatch.describe_alarms(AlarmNames=[ALARM_NAME])["MetricAlarms"][0]
    now = datetime.now(UTC)
    return {
        "version": "0",
        "id": f"drill-{int(now.timestamp())}",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": alarm["AlarmArn"].split(":")[4],
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": alarm["AlarmArn"].split(":")[3],
        "resources": [alarm["AlarmArn"]],
        "detail": {
            "alarmName": ALARM_NAME,
            "state": {"value": "ALARM", "reason": reason, "timestamp": now.isoformat(timespec="milliseconds")},
            "previousState": {"value": "OK", "reason": "Threshold not crossed", "timestamp": now.isoformat()},
            "configuration": {"metrics": [{"metricStat": {"metric": {"name": "5xxRate"}}}]},
        },
    }


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
            elif event["type"] in ("ExecutionFailed", "ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut"):
                say(f"  +{time.monotonic() - self._start:6.2f}s  {event['type'].removeprefix('Execution').upper()}")
        return names


def handle_approvals(pipeline: LocalPipeline, mode: str) -> None:
    clicks = [REJECTER] if mode == "reject" else list(AUTO_APPROVERS)
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


def write_report(out: Path, report: dict[str, Any], mode: str) -> None:
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
        "drill": {"rollback_type": "kubernetes_app", "approve": mode},
    }
    (out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    header = f"> Drill of the `kubernetes_app` rollback on the embedded emulators (approve: {mode}).\n\n"
    (out / "report.md").write_text(header + report["post_mortem_markdown"])


def run(scenario: str, mode: str, out: Path, time_scale: float, synthesized: Synthesized | None = None) -> int:
    say(f"Rollback drill: {scenario} (approve: {mode})")
    if synthesized is None:
        say("  synthesizing the stack...")
        synthesized = synthesize()
    with LocalPipeline(synthesized, wait_scale=time_scale, serve_aws=True) as pipeline:
        say(f"  [emulators] Kubernetes API {pipeline.kube.url}; AWS (moto) {pipeline.aws.endpoint_url}")
        say(f"  [emulators] approval page {pipeline.gateway.base_url}")
        say(f"  [cluster] before: {pipeline.images()}")
        event = raise_alarm(pipeline)
        (intake,) = pipeline.fire_alarm(event)["outcomes"]
        say(
            f"  [alarm] {ALARM_NAME} OK -> ALARM; decision matrix: {intake['scenario']} ({intake['severity']}, "
            f"{intake['decision']}); intake: {intake['action']} {intake.get('execution_name') or ''}"
        )
        if intake["action"] != "started":
            say("  intake did not start a rollback")
            return 1
        execution_arn = intake["execution_arn"]
        progress = Progress(pipeline, execution_arn)
        approvals_handled = False
        while pipeline.describe(execution_arn)["status"] == "RUNNING":
            entered = progress.poll()
            if not approvals_handled and "Request approval" in entered:
                handle_approvals(pipeline, mode)
                approvals_handled = True
            time.sleep(0.05)
        progress.poll()
        for message in pipeline.slack.messages:
            say(f"  [war room, Slack] {message['text']}")
        for incident in pipeline.statuspage.incidents.values():
            say(f"  [status page] {incident['name']} ({incident['status']}, impact {incident['impact_override']})")
        status = pipeline.describe(execution_arn)["status"]
        report = pipeline.recorded_report(execution_arn.rsplit(":", 1)[-1])
        say(f"  [cluster] after: {pipeline.images()}")
        if report is None:
            say(f"  execution {status}, but no report was recorded")
            return 1
        write_report(out, report, mode)
        say(f"  [report] {out / 'report.json'} and {out / 'report.md'}")
        rto = report["rto_seconds"]
        say(
            f"Result: {report['status']}"
            + (f"; RTO {rto:.1f} s of {report['rto_target_seconds']} s budget" if rto is not None else "")
            + "; changes: "
            + (
                ", ".join(f"{c['target']} {c['before']} -> {c['after']} ({c['status']})" for c in report["changes"])
                or "none"
            )
        )
        expected = "REJECTED" if mode == "reject" else "SUCCEEDED"
        verified = mode == "reject" or all(
            pipeline.kube.deployment(NAMESPACE, name)["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
                "v1.0.0-rc.5"
            )
            for name in pipeline.images()
        )
        return 0 if report["status"] == expected and verified else 1


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
