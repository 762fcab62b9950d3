"""The ``edge`` changes, one change step each, and the checks the ASL polls.

The distribution: its current config is read with its ETag; an ETag other than the one approvers saw is refused
(:class:`DistributionChangedSinceApproval`: CloudFront would refuse a stale ``IfMatch`` itself, an emulator may
not); the config and the ETag are stored (versioned) before the update, which carries ``IfMatch``. The record: it
must still be the record set approvers saw; the UPSERT's change id is kept for the INSYNC poll.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from functions.models.rollback import ChangeRecord, PlannedChange
from functions.rollbacks.edge import aws
from functions.rollbacks.edge.config import EdgeSite
from functions.rollbacks.edge.errors import (
    DistributionChangedSinceApproval,
    MaintenancePageNotServed,
    RecordChangedSinceApproval,
)
from functions.rollbacks.edge.plan import cloudfront_revert

PAGE_TIMEOUT_SECONDS = 8.0


def change_distribution(
    change: PlannedChange, site: EdgeSite, cloudfront: Any, s3: Any, rollback_id: str, now: datetime
) -> ChangeRecord:
    facts = dict(change.parameters)
    if change.skip:
        return ChangeRecord.of(change, "skipped", f"{change.target} is already as wanted: nothing changed", now, facts)
    current = aws.distribution_state(cloudfront, site)
    approved = str(change.parameters["approved_etag"])
    if current.etag != approved or current.digest != change.parameters["approved_digest"]:
        raise DistributionChangedSinceApproval(
            f"{change.target}: ETag {current.etag} (config {current.digest}), approvers saw ETag {approved} "
            f"(config {change.parameters['approved_digest']}): it was changed since; nothing written"
        )
    location, version = aws.save_state(s3, site, rollback_id, current)
    if change.parameters["action"] == "disable":
        wanted = {**current.config, "Enabled": False}
    else:
        wanted = aws.backup_config(s3, site)
    answer = cloudfront.update_distribution(Id=site.distribution_id, IfMatch=current.etag, DistributionConfig=wanted)
    facts |= {
        "saved_state": f"s3://{location.bucket}/{location.key}",
        "saved_state_version": version,
        "new_etag": str(answer.get("ETag", "")),
    }
    detail = (
        f"config and ETag {current.etag} stored at s3://{location.bucket}/{location.key} (version {version}); "
        f"{'disabled' if change.parameters['action'] == 'disable' else 'backup config applied'} with IfMatch"
    )
    record = ChangeRecord.of(change, "applied", detail, now, facts)
    return record.model_copy(update={"revert": cloudfront_revert(site, location.bucket, location.key, version)})


def distribution_deployed(cloudfront: Any, site: EdgeSite) -> dict[str, Any]:
    status = str(cloudfront.get_distribution(Id=site.distribution_id)["Distribution"]["Status"])
    return {"deployed": status == "Deployed", "status": status}


def change_record(change: PlannedChange, site: EdgeSite, route53: Any, now: datetime) -> ChangeRecord:
    facts = dict(change.parameters)
    if change.skip:
        return ChangeRecord.of(change, "skipped", f"{change.target} is already on the maintenance alias", now, facts)
    current = aws.record_set(route53, site)
    if aws.is_maintenance(current, site) and current != change.parameters["previous"]:
        # a retry after an UPSERT whose answer was lost finds its own change: nothing to write again
        return ChangeRecord.of(change, "applied", f"{change.target} is on the maintenance alias already", now, facts)
    if current != change.parameters["previous"]:
        raise RecordChangedSinceApproval(
            f"{change.target} is {aws.describe_record(current)}, approvers saw "
            f"{change.before}: it was changed since; nothing written"
        )
    answer = route53.change_resource_record_sets(
        HostedZoneId=site.hosted_zone_id,
        ChangeBatch={
            "Comment": "maintenance page (rollback)",
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": aws.maintenance_record_set(site)}],
        },
    )
    change_id = str(answer["ChangeInfo"]["Id"])
    facts["change_id"] = change_id
    detail = f"UPSERT to the maintenance alias {site.maintenance_target.dns_name} ({change_id})"
    return ChangeRecord.of(change, "applied", detail, now, facts)


def record_in_sync(route53: Any, record: ChangeRecord) -> dict[str, Any]:
    change_id = record.parameters.get("change_id")
    if not change_id:
        return {"in_sync": True, "status": "nothing submitted"}
    status = str(route53.get_change(Id=str(change_id))["ChangeInfo"]["Status"])
    return {"in_sync": status == "INSYNC", "status": status}


def maintenance_page(site: EdgeSite) -> dict[str, Any]:
    """GET the maintenance page's URL: it must answer 200 (or 503, the usual maintenance status) with the text."""
    url, expected = str(site.maintenance_page.url), site.maintenance_page.expected_text
    try:
        with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT_SECONDS) as response:
            status, text = response.status, response.read(200_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read(200_000).decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise MaintenancePageNotServed(f"{url}: no answer ({error})") from None
    if status not in (200, 503) or expected not in text:
        raise MaintenancePageNotServed(f"{url} answered {status} without {expected!r}: {text[:200]!r}")
    return {"url": url, "status": status, "served": True}
