"""Pre-checks of an ``edge`` rollback: read the distribution's current config with its ETag and the record set as
they are now. What approvers see as "before" is what the change steps insist on finding (the ETag, the record set)
and what a revert puts back; a change already in place (distribution already disabled or already on the backup
config, record already on the maintenance alias) is skipped."""

from __future__ import annotations

import json
import shlex
from typing import Any

from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.edge import aws
from functions.rollbacks.edge.config import EdgeSite
from functions.rollbacks.edge.input import EdgeTarget

DNS_KIND = "edge.dns_maintenance"
CLOUDFRONT_KIND = "edge.cloudfront"


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
    if target.cloudfront is not None:
        state = aws.distribution_state(cloudfront, site)
        now = f"{'enabled' if state.enabled else 'disabled'}, config {state.digest} (ETag {state.etag})"
        stored = aws.saved_state_location(site, request.rollback_id)
        if target.cloudfront == "disable":
            skip = not state.enabled
            after = "disabled"
            wanted = "disabled"
        else:
            backup = aws.backup_config(s3, site)
            skip = aws.digest(backup) == state.digest
            after = f"backup config {aws.digest(backup)} (s3://{site.backup_config.bucket}/{site.backup_config.key})"
            wanted = "on its backup config"
        changes.append(
            PlannedChange(
                target=f"CloudFront distribution {site.distribution_id}",
                kind=CLOUDFRONT_KIND,
                before=now,
                after=after,
                detail=f"already {wanted}: nothing to change"
                if skip
                else f"its current config and ETag are stored at s3://{stored.bucket}/{stored.key} first; the update "
                f"is refused if the ETag is no longer {state.etag}",
                revert=f"put back the stored config s3://{stored.bucket}/{stored.key} (the report's record gives the "
                "exact commands, with the stored version)",
                resource=f"cloudfront:{site.distribution_id}",
                skip=skip,
                parameters={
                    "action": target.cloudfront,
                    "distribution_id": site.distribution_id,
                    "approved_etag": state.etag,
                    "approved_digest": state.digest,
                },
            )
        )
    if target.dns_maintenance:
        previous = aws.record_set(route53, site)
        maintenance = aws.maintenance_record_set(site)
        skip = aws.is_maintenance(previous, site)
        changes.append(
            PlannedChange(
                target=f"DNS {site.record_type} {site.fqdn}",
                kind=DNS_KIND,
                before=aws.describe_record(previous),
                after=aws.describe_record(maintenance),
                detail="already on the maintenance alias: nothing to change"
                if skip
                else f"UPSERT in hosted zone {site.hosted_zone_id}; refused if the record set is no longer as seen now",
                revert=dns_revert(site, previous),
                resource=f"route53:{site.hosted_zone_id}/{site.fqdn}{site.record_type}",
                skip=skip,
                parameters={"hosted_zone_id": site.hosted_zone_id, "previous": previous, "wanted": maintenance},
            )
        )
    moving = [c for c in changes if not c.skip]
    summary = (
        "; ".join(f"{c.target}: {c.before} -> {c.after}" for c in moving)
        if moving
        else "the site is already in maintenance: nothing to change"
    )
    return RollbackPlan(changes=changes, feature_flag_options=request.feature_flags, summary=summary)
