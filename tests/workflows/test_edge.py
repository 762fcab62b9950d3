"""Edge rollbacks end to end on the emulators (runbook procedure 4): the synthesized state machine, the real
handlers, moto's Route 53, CloudFront and S3, and the maintenance page on 127.0.0.1.

Approve -> the distribution's config and ETag are stored (versioned) before it gets its backup config, it is
followed until Deployed, the record is UPSERTed to the maintenance alias and followed until INSYNC, the maintenance
page answers, the report gives each change's exact revert; the revert restores the exact prior record set and
config. The distribution changed after the approval (its ETag moved) -> refused, nothing changed, FAILED, lock
released."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local import approver
from local.fakes.edge import ORIGINAL_RECORD, edit_distribution
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized
from rollback_cli.revert import revert_input

RC5 = "registry.example.com/skillancer-api:v1.0.0-rc.5"
APPROVERS = ("oncall-primary@skillancer.com", "eng-lead@skillancer.com")


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized) as running:
        running.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5)
        running.kube.settle()
        yield running


def edge_input(pipeline: LocalPipeline, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": target,
        "reason": "CloudFront serves a poisoned cache for skillancer.com",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Complete platform outage",
        "severity": "P0",
        "health_urls": [pipeline.health.url_for("skillancer-api")],
    }


def start(pipeline: LocalPipeline, name: str, payload: dict[str, Any]) -> str:
    arn = pipeline.deployment.state_machine_arn("Edge")
    return str(pipeline.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])


def approve(pipeline: LocalPipeline, execution: str, emails_before: int = 0) -> None:
    """On-call and lead approve through the links of the emails that arrived after the first ``emails_before``."""
    pipeline.wait_for_state(execution, "Request approval")
    for email in APPROVERS:
        assert approver.decide(pipeline.link_for(email, since=emails_before), "approve").status == 200


def record_set(pipeline: LocalPipeline) -> dict[str, Any]:
    route53: Any = boto3.client("route53")
    found = route53.list_resource_record_sets(HostedZoneId=pipeline.edge_site["hosted_zone_id"])["ResourceRecordSets"]
    return next(r for r in found if (r["Name"], r["Type"]) == ("skillancer.com.", "A"))


def distribution(pipeline: LocalPipeline) -> dict[str, Any]:
    cloudfront: Any = boto3.client("cloudfront")
    return dict(cloudfront.get_distribution_config(Id=pipeline.edge_site["distribution_id"]))


def aws_cli(command: str) -> None:
    """Run a report's revert (AWS CLI commands) through boto3, argument for argument."""
    for part in command.split(" && "):
        words = shlex.split(part)
        options = dict(zip(words[3::2], words[4::2], strict=False))
        if words[1:3] == ["route53", "change-resource-record-sets"]:
            batch = json.loads(options["--change-batch"])
            boto3.client("route53").change_resource_record_sets(
                HostedZoneId=options["--hosted-zone-id"], ChangeBatch=batch
            )
        elif words[1:3] == ["s3api", "get-object"]:
            s3: Any = boto3.client("s3")
            stored = s3.get_object(Bucket=options["--bucket"], Key=options["--key"], VersionId=options["--version-id"])
            saved = json.loads(stored["Body"].read())
        elif words[1:3] == ["cloudfront", "update-distribution"]:
            cloudfront: Any = boto3.client("cloudfront")
            etag = cloudfront.get_distribution_config(Id=options["--id"])["ETag"]
            cloudfront.update_distribution(Id=options["--id"], IfMatch=etag, DistributionConfig=saved)
        else:
            raise AssertionError(f"unexpected command {part}")


def rolled_back(pipeline: LocalPipeline, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An approved edge rollback (backup config, maintenance alias) that succeeded: its input and its report."""
    payload = edge_input(pipeline, {"dns_maintenance": True, "cloudfront": "backup_config"})
    execution = start(pipeline, name, payload)
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    return payload, json.loads(result["output"])


def test_approved_edge_rollback_changes_verifies_reports_and_the_revert_restores_it(pipeline: LocalPipeline) -> None:
    # Given skillancer.com's A record on the origin and the distribution on its live config
    before_record, before = record_set(pipeline), distribution(pipeline)
    assert before_record == ORIGINAL_RECORD
    execution = start(
        pipeline, "edge-1", edge_input(pipeline, {"dns_maintenance": True, "cloudfront": "backup_config"})
    )
    pipeline.wait_for_state(execution, "Request approval")
    # Then approvers see the record and the distribution as they are, and what they become
    page = approver.view(pipeline.link_for(APPROVERS[0]))
    assert "203.0.113.10" in page.text and "maintenance.skillancer.com" in page.text
    assert before["ETag"] in page.text
    # When on-call and lead approve
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the distribution is on the backup config, the record on the maintenance alias, the page was checked
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    after = distribution(pipeline)
    assert after["DistributionConfig"]["Origins"]["Items"][0]["DomainName"] == "maintenance.skillancer.com"
    alias = record_set(pipeline)["AliasTarget"]
    assert (alias["HostedZoneId"], alias["DNSName"].rstrip("."), alias["EvaluateTargetHealth"]) == (
        "Z2MAINTENANCE", "maintenance.skillancer.com", False,
    )  # fmt: skip
    entered = pipeline.states_entered(execution)
    assert {"Check distribution", "Check record change", "Check maintenance page", "Start verification"} <= set(entered)
    assert entered.index("Check maintenance page") < entered.index("Start verification")
    assert pipeline.maintenance_page.requests >= 1
    # And the config and ETag approvers saw were stored (versioned) before the change
    report = json.loads(result["output"])
    changes = {c["kind"]: c for c in report["changes"]}
    stored = changes["edge.cloudfront"]["parameters"]
    bucket, key = str(stored["saved_state"]).removeprefix("s3://").split("/", 1)
    s3: Any = boto3.client("s3")
    saved = s3.get_object(Bucket=bucket, Key=key, VersionId=stored["saved_state_version"])
    assert json.loads(saved["Body"].read()) == before["DistributionConfig"]
    assert saved["Metadata"]["etag"] == before["ETag"]
    assert {c["status"] for c in report["changes"]} == {"applied"}
    assert [c["kind"] for c in report["changes"]] == ["edge.cloudfront", "edge.dns_maintenance"]
    assert all(c["revert"].startswith("rollback revert edge-1; by hand: aws ") for c in report["changes"])
    assert pipeline.lock_holder() is None

    # When the fix is out and the revert is started and approved (the input `rollback revert edge-1` starts)
    original = json.loads(pipeline.describe(execution)["input"])
    payload = revert_input("edge", "edge-1", original, report["changes"], requested_by="sre-on-duty@skillancer.com")
    assert payload["target"] == {
        "restore": {
            "record_set": ORIGINAL_RECORD,
            "distribution_config": {"key": key, "version_id": stored["saved_state_version"]},
        }
    }
    emails_before = pipeline.approval_emails_so_far()
    revert = start(pipeline, "edge-1-revert", {**payload, "health_urls": original["health_urls"]})
    pipeline.wait_for_state(revert, "Request approval")
    # Then approvers see the maintenance alias and the backup config become the record set and config of before
    page = approver.view(pipeline.link_for(APPROVERS[0], since=emails_before))
    assert "maintenance.skillancer.com" in page.text and "203.0.113.10" in page.text
    approve(pipeline, revert, emails_before)
    reverted = pipeline.wait(revert)
    # And once approved, the record set and the distribution's config are exactly as they were before the rollback
    assert reverted["status"] == "SUCCEEDED", (reverted.get("error"), reverted.get("cause"))
    assert record_set(pipeline) == before_record
    assert distribution(pipeline)["DistributionConfig"] == before["DistributionConfig"]
    # And the revert recorded its own changes, revertible in turn (it stored the backup config it replaced)
    undone = json.loads(reverted["output"])
    assert [(c["kind"], c["status"]) for c in undone["changes"]] == [
        ("edge.cloudfront_restore", "applied"), ("edge.dns_restore", "applied"),
    ]  # fmt: skip
    assert all(c["revert"].startswith("rollback revert edge-1-revert; by hand: ") for c in undone["changes"])
    assert pipeline.lock_holder() is None


def test_each_change_of_an_edge_rollback_can_be_reverted_by_hand_with_the_reports_commands(
    pipeline: LocalPipeline,
) -> None:
    # Given an edge rollback that moved the record and the distribution
    before_record, before = record_set(pipeline), distribution(pipeline)
    _, report = rolled_back(pipeline, "edge-by-hand")
    # When each change's revert is run by hand (the exact AWS CLI commands the report gives after "by hand: ")
    for change in reversed(report["changes"]):
        aws_cli(change["revert"].split("; by hand: ", 1)[1])
    # Then the record set and the distribution's config are exactly as they were
    assert record_set(pipeline) == before_record
    assert distribution(pipeline)["DistributionConfig"] == before["DistributionConfig"]


def test_a_revert_whose_record_was_changed_after_its_approval_is_refused(pipeline: LocalPipeline) -> None:
    # Given an edge rollback, and its revert waiting for approval
    original, report = rolled_back(pipeline, "edge-2")
    payload = revert_input("edge", "edge-2", original, report["changes"], requested_by="sre-on-duty@skillancer.com")
    emails_before = pipeline.approval_emails_so_far()
    revert = start(pipeline, "edge-2-revert", {**payload, "health_urls": original["health_urls"]})
    pipeline.wait_for_state(revert, "Request approval")
    # When someone points the record elsewhere by hand before the approval lands
    by_hand = {"Name": "skillancer.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "198.51.100.7"}]}
    boto3.client("route53").change_resource_record_sets(
        HostedZoneId=pipeline.edge_site["hosted_zone_id"],
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": by_hand}]},
    )
    approve(pipeline, revert, emails_before)
    reverted = pipeline.wait(revert)
    # Then the revert refuses to overwrite it: the record is as the person left it, the revert FAILED and says why
    assert (reverted["status"], reverted["error"]) == ("FAILED", "RecordChangedSinceApproval"), reverted
    assert record_set(pipeline) == by_hand
    # And its report is PARTIAL: the distribution's config was put back, the record was not
    recorded = pipeline.recorded_report("edge-2-revert")
    assert recorded is not None and (recorded["status"], recorded["partial"]) == ("FAILED", True)
    assert [(c["kind"], c["status"]) for c in recorded["changes"]] == [
        ("edge.cloudfront_restore", "applied"), ("edge.dns_restore", "failed"),
    ]  # fmt: skip
    assert pipeline.lock_holder() is None


def test_a_distribution_changed_after_the_approval_is_refused_and_nothing_is_changed(pipeline: LocalPipeline) -> None:
    # Given approvers saw the distribution with its ETag
    execution = start(pipeline, "edge-moved", edge_input(pipeline, {"dns_maintenance": True, "cloudfront": "disable"}))
    pipeline.wait_for_state(execution, "Request approval")
    # When someone edits the distribution by hand (its ETag moves) before the approval lands
    moved = edit_distribution(pipeline.edge_site["distribution_id"], "hand edit during the incident")
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the change step refuses, and nothing is changed: the distribution is enabled, the record untouched
    assert (result["status"], result["error"]) == ("FAILED", "DistributionChangedSinceApproval"), result
    assert moved in result["cause"]
    now = distribution(pipeline)
    assert now["DistributionConfig"]["Enabled"] is True and now["ETag"] == moved
    assert record_set(pipeline) == ORIGINAL_RECORD
    assert "Change record" not in pipeline.states_entered(execution)
    # And the report records the refusal; no state was stored; the lock is released
    report = pipeline.recorded_report("edge-moved")
    assert report is not None
    assert [(c["kind"], c["status"]) for c in report["changes"]] == [("edge.cloudfront", "failed")]
    s3: Any = boto3.client("s3")
    listed = s3.list_object_versions(Bucket=pipeline.edge_site["saved_states"]["bucket"], Prefix="cloudfront/")
    assert [v["Key"] for v in listed.get("Versions", [])] == [pipeline.edge_site["backup_config"]["key"]]
    assert pipeline.lock_holder() is None


def test_a_site_that_does_not_answer_with_the_maintenance_page_fails_the_rollback(pipeline: LocalPipeline) -> None:
    # Given the site answers with something other than the maintenance page (a stale error page)
    pipeline.maintenance_page.body = "<html><body>502 Bad Gateway</body></html>"
    execution = start(pipeline, "edge-no-page", edge_input(pipeline, {"dns_maintenance": True}))
    # When the record change is approved and made
    approve(pipeline, execution)
    result = pipeline.wait(execution)
    # Then the page check is retried, then fails the rollback before the verification, with the page's answer
    assert (result["status"], result["error"]) == ("FAILED", "MaintenancePageNotServed"), result
    assert "502 Bad Gateway" in result["cause"]
    assert pipeline.maintenance_page.requests == 6  # the first check and its 5 retries
    assert "Start verification" not in pipeline.states_entered(execution)
    assert record_set(pipeline)["AliasTarget"]["DNSName"].rstrip(".") == "maintenance.skillancer.com"
    assert pipeline.lock_holder() is None
