"""The edge steps on moto's Route 53, CloudFront and S3, called as the change steps call them: a retry after an
update whose answer was lost, and what a revert may and may not restore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.errors import InvalidRollbackInput
from functions.models.rollback import PlannedChange
from functions.rollbacks.edge import aws, execute, plan
from functions.rollbacks.edge.config import EdgeSite
from functions.rollbacks.edge.errors import DistributionChangedSinceApproval, StoredConfigNotFound
from local.fakes.edge import ORIGINAL_RECORD, seed_edge
from tests.support.requests import rollback_request

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
CONFIGURED = json.loads(Path("cdk.json").read_text())["context"]["rollback"]["types"]["edge"]["site"]


@pytest.fixture
def site() -> Iterator[EdgeSite]:
    with mock_aws():
        yield EdgeSite.model_validate(seed_edge(CONFIGURED, "http://127.0.0.1:9/"))


def clients() -> tuple[Any, Any, Any]:
    return boto3.client("route53"), boto3.client("cloudfront"), boto3.client("s3")


def planned(site: EdgeSite, rollback_id: str, target: dict[str, Any]) -> list[PlannedChange]:
    route53, cloudfront, s3 = clients()
    return plan.plan_edge(
        rollback_request("edge", target, now=NOW, rollback_id=rollback_id), site, route53, cloudfront, s3
    ).changes


def test_a_retried_distribution_change_finds_its_own_update_and_writes_nothing_again(site: EdgeSite) -> None:
    # Given a distribution change that went through, but whose answer was lost (the step runs again)
    _, cloudfront, s3 = clients()
    (change,) = planned(site, "edge-lost", {"cloudfront": "disable"})
    first = execute.change_distribution(change, site, cloudfront, s3, "edge-lost", NOW)
    etag_after = cloudfront.get_distribution_config(Id=site.distribution_id)["ETag"]
    # When the step runs again with the same approved change
    again = execute.change_distribution(change, site, cloudfront, s3, "edge-lost", NOW)
    # Then it recognizes its own update: applied, the same stored state, no second update (the ETag did not move)
    assert (first.status, again.status) == ("applied", "applied")
    assert "found its own update" in again.detail
    assert again.parameters["saved_state_version"] == first.parameters["saved_state_version"]
    assert cloudfront.get_distribution_config(Id=site.distribution_id)["ETag"] == etag_after
    versions = s3.list_object_versions(Bucket=site.saved_states.bucket, Prefix=f"{site.saved_states.key}/edge-lost/")
    assert len(versions["Versions"]) == 1


def test_a_hand_edit_after_the_approval_is_not_taken_for_the_steps_own_update(site: EdgeSite) -> None:
    # Given an approved change to the backup config, and someone disables the distribution by hand meanwhile
    _, cloudfront, s3 = clients()
    (change,) = planned(site, "edge-hand", {"cloudfront": "backup_config"})
    current = cloudfront.get_distribution_config(Id=site.distribution_id)
    cloudfront.update_distribution(
        Id=site.distribution_id,
        IfMatch=current["ETag"],
        DistributionConfig={**current["DistributionConfig"], "Enabled": False},
    )
    # When the step runs (no state of its own stored: it never updated)
    with pytest.raises(DistributionChangedSinceApproval):
        execute.change_distribution(change, site, cloudfront, s3, "edge-hand", NOW)
    # Then the hand edit stays
    assert cloudfront.get_distribution_config(Id=site.distribution_id)["DistributionConfig"]["Enabled"] is False


def test_a_revert_puts_back_the_stored_config_and_the_record_set(site: EdgeSite) -> None:
    # Given an edge rollback that disabled the distribution and moved the record to the maintenance alias
    route53, cloudfront, s3 = clients()
    live = cloudfront.get_distribution_config(Id=site.distribution_id)["DistributionConfig"]
    distribution, record = planned(site, "edge-3", {"cloudfront": "disable", "dns_maintenance": True})
    stored = execute.change_distribution(distribution, site, cloudfront, s3, "edge-3", NOW)
    moved = execute.change_record(record, site, route53, NOW)
    assert aws.is_maintenance(aws.record_set(route53, site), site)
    # When its revert is planned and carried out
    key = str(stored.parameters["saved_state"]).split("/", 3)[3]
    restore = {"record_set": moved.parameters["previous"],
               "distribution_config": {"key": key, "version_id": stored.parameters["saved_state_version"]}}  # fmt: skip
    back_distribution, back_record = planned(site, "edge-3-revert", {"restore": restore})
    assert "enabled, the stored config" in back_distribution.after and "203.0.113.10" in back_record.after
    execute.change_distribution(back_distribution, site, cloudfront, s3, "edge-3-revert", NOW)
    execute.change_record(back_record, site, route53, NOW)
    # Then the distribution has its live config and the record its original set, exactly
    assert cloudfront.get_distribution_config(Id=site.distribution_id)["DistributionConfig"] == live
    assert aws.record_set(route53, site) == ORIGINAL_RECORD


@pytest.mark.parametrize(
    ("restore", "refusal"),
    [
        ({"distribution_config": {"key": "elsewhere/edge-1/distribution-config.json", "version_id": "v1"}},
         StoredConfigNotFound),
        ({"distribution_config": {"key": f"{CONFIGURED['saved_states']['key']}/no-such/distribution-config.json",
                                  "version_id": "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"}}, StoredConfigNotFound),
        ({"record_set": {**ORIGINAL_RECORD, "Name": "evil.example.com."}}, InvalidRollbackInput),
        ({"record_set": {**ORIGINAL_RECORD, "Type": "AAAA"}}, InvalidRollbackInput),
    ],
)  # fmt: skip
def test_a_revert_restores_only_the_sites_record_and_configs_stored_under_its_prefix(
    site: EdgeSite, restore: dict[str, Any], refusal: type[Exception]
) -> None:
    # Given a restore naming something that is not the site's (another prefix, a missing state, another record)
    # When it is planned
    # Then the pre-checks refuse it before any approval
    with pytest.raises(refusal):
        planned(site, "edge-bad-revert", {"restore": restore})
