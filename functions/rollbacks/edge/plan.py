"""Pre-checks of an ``edge`` rollback: read the distribution's current config with its ETag and the record set as
they are now. What approvers see as "before" is what the change steps insist on finding (the ETag, the record set)
and what a revert puts back; a change already in place (distribution already disabled or already on the backup
config, record already on the maintenance alias) is skipped."""

from __future__ import annotations

import json
import shlex
from typing import Any

from pydantic import JsonValue

from functions.errors import InvalidRollbackInput
from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.contract import revert_text
from functions.rollbacks.edge import aws
from functions.rollbacks.edge.config import EdgeSite
from functions.rollbacks.edge.input import EdgeTarget, RecordSet, StoredDistributionConfig
from functions.rollbacks.edge.kinds import CLOUDFRONT_KIND, CLOUDFRONT_RESTORE_KIND, DNS_KIND, DNS_RESTORE_KIND


def dns_revert(site: EdgeSite, previous: dict[str, Any]) -> str:
    """The AWS CLI command that puts the record set back exactly as it was."""
    batch = {
        "Comment": "revert of the maintenance switch",
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": previous}],
    }
    return (
        f"aws route53 change-resource-record-sets --hosted-zone-id {site.hosted_zone_id} "
        f"--change-batch {shlex.quote(json.dumps(batch, separators=(',', ':')))}"
    )


def cloudfront_revert(site: EdgeSite, bucket: str, key: str, version: str) -> str:
    """The AWS CLI commands that put the stored DistributionConfig back (with the ETag the distribution has then)."""
    d = site.distribution_id
    return (
        f"aws s3api get-object --bucket {bucket} --key {key} --version-id {version} distribution-config.json && "
        f"aws cloudfront update-distribution --id {d} --distribution-config file://distribution-config.json "
        f'--if-match "$(aws cloudfront get-distribution-config --id {d} --query ETag --output text)"'
    )


def plan_edge(request: RollbackRequest, site: EdgeSite, route53: Any, cloudfront: Any, s3: Any) -> RollbackPlan:
    target = EdgeTarget.model_validate(request.target)
    changes: list[PlannedChange] = []
    if target.restore is not None:
        if target.restore.distribution_config is not None:
            changes.append(distribution_restore(request, target.restore.distribution_config, site, cloudfront, s3))
        if target.restore.record_set is not None:
            changes.append(record_restore(request, target.restore.record_set, site, route53))
    else:
        if target.cloudfront is not None:
            changes.append(distribution_change(request, target.cloudfront, site, cloudfront, s3))
        if target.dns_maintenance:
            changes.append(record_change(request, site, route53))
    moving = [c for c in changes if not c.skip]
    summary = (
        "; ".join(f"{c.target}: {c.before} -> {c.after}" for c in moving)
        if moving
        else "nothing to change: the site is already as wanted"
    )
    return RollbackPlan(changes=changes, feature_flag_options=request.feature_flags, summary=summary)


def _distribution(
    request: RollbackRequest,
    site: EdgeSite,
    state: aws.DistributionState,
    *,
    action: str,
    kind: str,
    after: str,
    skip: bool,
    wanted: str,
    restore: dict[str, JsonValue] | None = None,
) -> PlannedChange:
    """A change of the distribution from ``state`` (what approvers see, and what the change step insists on)."""
    stored = aws.saved_state_location(site, request.rollback_id)
    return PlannedChange(
        target=f"CloudFront distribution {site.distribution_id}",
        kind=kind,
        before=f"{enabled_text(state.config)}, config {state.digest} (ETag {state.etag})",
        after=after,
        detail=f"already {wanted}: nothing to change"
        if skip
        else f"its current config and ETag are stored at s3://{stored.bucket}/{stored.key} first; the update "
        f"is refused if the ETag is no longer {state.etag}",
        revert=revert_text(
            request.rollback_id, "the report's record gives the exact commands, with the stored version"
        ),
        resource=f"cloudfront:{site.distribution_id}",
        skip=skip,
        parameters={
            "action": action,
            "distribution_id": site.distribution_id,
            "approved_etag": state.etag,
            "approved_digest": state.digest,
            **(restore or {}),
        },
    )


def enabled_text(config: dict[str, Any]) -> str:
    return "enabled" if config.get("Enabled") else "disabled"


def distribution_change(
    request: RollbackRequest, action: str, site: EdgeSite, cloudfront: Any, s3: Any
) -> PlannedChange:
    state = aws.distribution_state(cloudfront, site)
    if action == "disable":
        skip, after, wanted = not state.enabled, "disabled", "disabled"
    else:
        backup = aws.backup_config(s3, site)
        skip = aws.digest(backup) == state.digest
        after = f"backup config {aws.digest(backup)} (s3://{site.backup_config.bucket}/{site.backup_config.key})"
        wanted = "on its backup config"
    return _distribution(
        request, site, state, action=action, kind=CLOUDFRONT_KIND, after=after, skip=skip, wanted=wanted
    )


def distribution_restore(
    request: RollbackRequest, restore: StoredDistributionConfig, site: EdgeSite, cloudfront: Any, s3: Any
) -> PlannedChange:
    state = aws.distribution_state(cloudfront, site)
    config = aws.stored_config(s3, site, restore.key, restore.version_id)
    where = f"s3://{site.saved_states.bucket}/{restore.key} version {restore.version_id}"
    return _distribution(
        request,
        site,
        state,
        action="restore",
        kind=CLOUDFRONT_RESTORE_KIND,
        after=f"{enabled_text(config)}, the stored config {aws.digest(config)} ({where})",
        skip=aws.digest(config) == state.digest,
        wanted="on the stored config",
        restore={
            "restore_key": restore.key,
            "restore_version": restore.version_id,
            "restore_digest": aws.digest(config),
        },
    )


def _record(
    request: RollbackRequest, site: EdgeSite, previous: dict[str, Any], wanted: dict[str, Any], kind: str, already: str
) -> PlannedChange:
    skip = aws.same_answer(previous, wanted)
    return PlannedChange(
        target=f"DNS {site.record_type} {site.fqdn}",
        kind=kind,
        before=aws.describe_record(previous),
        after=aws.describe_record(wanted),
        detail=f"already {already}: nothing to change"
        if skip
        else f"UPSERT in hosted zone {site.hosted_zone_id}; refused if the record set is no longer as seen now",
        revert=revert_text(request.rollback_id, dns_revert(site, previous)),
        resource=f"route53:{site.hosted_zone_id}/{site.fqdn}{site.record_type}",
        skip=skip,
        parameters={"hosted_zone_id": site.hosted_zone_id, "previous": previous, "wanted": wanted},
    )


def record_change(request: RollbackRequest, site: EdgeSite, route53: Any) -> PlannedChange:
    return _record(
        request, site, aws.record_set(route53, site), aws.maintenance_record_set(site), DNS_KIND,
        "on the maintenance alias",
    )  # fmt: skip


def record_restore(request: RollbackRequest, restore: RecordSet, site: EdgeSite, route53: Any) -> PlannedChange:
    wanted = restore.model_dump(mode="json", exclude_none=True)
    if wanted["Name"].rstrip(".").lower() != site.fqdn.rstrip(".").lower() or wanted["Type"] != site.record_type:
        raise InvalidRollbackInput(
            f"target.restore.record_set: {wanted['Type']} {wanted['Name']} is not the site's record "
            f"({site.record_type} {site.fqdn})"
        )
    return _record(request, site, aws.record_set(route53, site), wanted, DNS_RESTORE_KIND, "as it is to be restored")
