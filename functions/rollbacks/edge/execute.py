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
from functions.rollbacks.contract import revert_text
from functions.rollbacks.edge import aws
from functions.rollbacks.edge.config import EdgeSite, S3Location
from functions.rollbacks.edge.errors import (
    DistributionChangedSinceApproval,
    MaintenancePageNotServed,
    RecordChangedSinceApproval,
)
from functions.rollbacks.edge.input import EdgeTarget
from functions.rollbacks.edge.kinds import DNS_KIND
from functions.rollbacks.edge.plan import cloudfront_revert

PAGE_TIMEOUT_SECONDS = 8.0


def wanted_config(change: PlannedChange, site: EdgeSite, approved: dict[str, Any], s3: Any) -> dict[str, Any]:
    """The config the change writes, from the ``approved`` one (the config approvers saw)."""
    action = change.parameters["action"]
    if action == "disable":
        return {**approved, "Enabled": False}
    if action == "restore":
        stored = aws.stored_config(
            s3, site, str(change.parameters["restore_key"]), str(change.parameters["restore_version"])
        )
        if aws.digest(stored) != change.parameters["restore_digest"]:
            raise DistributionChangedSinceApproval(
                f"the stored config to restore is {aws.digest(stored)}, approvers saw "
                f"{change.parameters['restore_digest']}"
            )
        return stored
    return aws.backup_config(s3, site)


def change_distribution(
    change: PlannedChange, site: EdgeSite, cloudfront: Any, s3: Any, rollback_id: str, now: datetime
) -> ChangeRecord:
    facts = dict(change.parameters)
    if change.skip:
        return ChangeRecord.of(change, "skipped", f"{change.target} is already as wanted: nothing changed", now, facts)
    approved = str(change.parameters["approved_etag"])
    current = aws.distribution_state(cloudfront, site)
    if current.etag != approved or current.digest != change.parameters["approved_digest"]:
        own = _own_update(change, site, s3, rollback_id, current, now)
        if own is not None:
            return own
        raise DistributionChangedSinceApproval(
            f"{change.target}: ETag {current.etag} (config {current.digest}), approvers saw ETag {approved} "
            f"(config {change.parameters['approved_digest']}): it was changed since; nothing written"
        )
    wanted = wanted_config(change, site, current.config, s3)
    location, version = aws.save_state(s3, site, rollback_id, current)
    answer = cloudfront.update_distribution(Id=site.distribution_id, IfMatch=current.etag, DistributionConfig=wanted)
    facts |= {
        "saved_state": f"s3://{location.bucket}/{location.key}",
        "saved_state_version": version,
        "new_etag": str(answer.get("ETag", "")),
    }
    done = {"disable": "disabled", "restore": "stored config put back"}.get(
        str(change.parameters["action"]), "backup config applied"
    )
    detail = (
        f"config and ETag {current.etag} stored at s3://{location.bucket}/{location.key} (version {version}); "
        f"{done} with IfMatch"
    )
    return _distribution_record(change, site, rollback_id, detail, now, facts, location, version)


def _own_update(
    change: PlannedChange, site: EdgeSite, s3: Any, rollback_id: str, current: aws.DistributionState, now: datetime
) -> ChangeRecord | None:
    """A retry after an update whose answer was lost: the state this rollback stored before updating holds the
    approved ETag and config, and the distribution now has what the update wrote. ``None``: not our update."""
    saved = aws.own_saved_state(s3, site, rollback_id)
    if saved is None or saved[0] != change.parameters["approved_etag"]:
        return None
    etag, version = saved
    location = aws.saved_state_location(site, rollback_id)
    approved = aws.read_json(s3, location, None if version == "null" else version)
    if aws.digest(approved) != change.parameters["approved_digest"]:
        return None
    if aws.digest(wanted_config(change, site, approved, s3)) != current.digest:
        return None
    facts = dict(change.parameters) | {
        "saved_state": f"s3://{location.bucket}/{location.key}",
        "saved_state_version": version,
        "new_etag": current.etag,
    }
    detail = (
        f"found its own update in place (ETag {etag} -> {current.etag}); the config was stored at "
        f"s3://{location.bucket}/{location.key} (version {version})"
    )
    return _distribution_record(change, site, rollback_id, detail, now, facts, location, version)


def _distribution_record(
    change: PlannedChange,
    site: EdgeSite,
    rollback_id: str,
    detail: str,
    now: datetime,
    facts: dict[str, Any],
    location: S3Location,
    version: str,
) -> ChangeRecord:
    record = ChangeRecord.of(change, "applied", detail, now, facts)
    commands = cloudfront_revert(site, location.bucket, location.key, version)
    return record.model_copy(update={"revert": revert_text(rollback_id, commands)})


def distribution_deployed(cloudfront: Any, site: EdgeSite) -> dict[str, Any]:
    status = str(cloudfront.get_distribution(Id=site.distribution_id)["Distribution"]["Status"])
    return {"deployed": status == "Deployed", "status": status}


def change_record(change: PlannedChange, site: EdgeSite, route53: Any, now: datetime) -> ChangeRecord:
    facts = dict(change.parameters)
    if change.skip:
        return ChangeRecord.of(change, "skipped", f"{change.target} is already as wanted: nothing changed", now, facts)
    wanted = dict(change.parameters["wanted"])  # type: ignore[arg-type]
    previous = change.parameters["previous"]
    current = aws.record_set(route53, site)
    if aws.same_answer(current, wanted) and current != previous:
        # a retry after an UPSERT whose answer was lost finds its own change: nothing to write again
        return ChangeRecord.of(change, "applied", f"{change.target} is {change.after} already", now, facts)
    if current != previous:
        raise RecordChangedSinceApproval(
            f"{change.target} is {aws.describe_record(current)}, approvers saw "
            f"{change.before}: it was changed since; nothing written"
        )
    answer = route53.change_resource_record_sets(
        HostedZoneId=site.hosted_zone_id,
        ChangeBatch={
            "Comment": "maintenance page (rollback)" if change.kind == DNS_KIND else "record set restored (revert)",
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": wanted}],
        },
    )
    change_id = str(answer["ChangeInfo"]["Id"])
    facts["change_id"] = change_id
    detail = f"UPSERT to {change.after} ({change_id})"
    return ChangeRecord.of(change, "applied", detail, now, facts)


def record_in_sync(route53: Any, record: ChangeRecord) -> dict[str, Any]:
    change_id = record.parameters.get("change_id")
    if not change_id:
        return {"in_sync": True, "status": "nothing submitted"}
    status = str(route53.get_change(Id=str(change_id))["ChangeInfo"]["Status"])
    return {"in_sync": status == "INSYNC", "status": status}


def maintenance_page(site: EdgeSite, target: EdgeTarget) -> dict[str, Any]:
    """GET the maintenance page's URL: it must answer 200 (or 503, the usual maintenance status) with the text. A
    revert takes the site out of maintenance: the service's health URLs verify it, not this page."""
    url, expected = str(site.maintenance_page.url), site.maintenance_page.expected_text
    if target.restore is not None:
        return {"url": url, "checked": False, "why": "a revert: the verification's health checks show the site"}
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
