"""The edge of the site on the emulators (runbook procedure 4): skillancer.com's hosted zone with its A record, its
CloudFront distribution, the versioned bucket holding the distribution's backup config (moto), and the maintenance
page on 127.0.0.1 (what the site answers once the record points at the maintenance alias).

moto does not move a distribution's ETag when its config changes (AWS does); :func:`edit_distribution` does, as
someone's hand edit in the console would."""

from __future__ import annotations

import copy
import json
from typing import Any

from local.fakes.http import LocalHttpServer

MAINTENANCE_TEXT = "Skillancer is down for maintenance"
ORIGINAL_RECORD = {"Name": "skillancer.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "203.0.113.10"}]}


class MaintenancePage:
    """Answers 503 with the maintenance page on every path (``body``: what it serves); ``requests`` counts the
    GETs."""

    def __init__(self) -> None:
        self.requests = 0
        self.body = f"<html><body><h1>{MAINTENANCE_TEXT}</h1></body></html>"
        self._server = LocalHttpServer(self._handle)

    @property
    def url(self) -> str:
        return self._server.base_url + "/"

    def __enter__(self) -> MaintenancePage:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        self.requests += 1
        return 503, "text/html", self.body


def distribution_config(reference: str, origin: str, comment: str) -> dict[str, Any]:
    return {
        "CallerReference": reference,
        "Comment": comment,
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": origin, "OriginPath": "",
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    }  # fmt: skip


def seed_edge(configured: dict[str, Any], page_url: str) -> dict[str, Any]:
    """Create the configured zone, record, distribution and buckets in moto; returns the configuration with moto's
    ids and the local maintenance page in place of the configured ones."""
    import boto3

    site = copy.deepcopy(configured)
    route53: Any = boto3.client("route53")
    zone = route53.create_hosted_zone(Name="skillancer.com.", CallerReference="edge-seed")["HostedZone"]
    zone_id = zone["Id"].rsplit("/", 1)[-1]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": ORIGINAL_RECORD}]}
    )
    cloudfront: Any = boto3.client("cloudfront")
    live = distribution_config("skillancer-web", "origin.skillancer.com", "skillancer.com")
    distribution_id = cloudfront.create_distribution(DistributionConfig=live)["Distribution"]["Id"]
    s3: Any = boto3.client("s3")
    for bucket in {site["backup_config"]["bucket"], site["saved_states"]["bucket"]}:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    backup = {**live, "Comment": "skillancer.com (backup: maintenance origin)"}
    backup["Origins"] = copy.deepcopy(live["Origins"])
    backup["Origins"]["Items"][0]["DomainName"] = "maintenance.skillancer.com"
    s3.put_object(Bucket=site["backup_config"]["bucket"], Key=site["backup_config"]["key"], Body=json.dumps(backup))
    site |= {"hosted_zone_id": zone_id, "distribution_id": distribution_id}
    site["maintenance_page"] = {**site["maintenance_page"], "url": page_url}
    return site


def edit_distribution(distribution_id: str, comment: str) -> str:
    """Change the distribution's comment by hand, as someone in the console would; returns its new ETag (moved, as
    AWS moves it)."""
    import boto3
    from moto.cloudfront.models import cloudfront_backends, random_id

    cloudfront: Any = boto3.client("cloudfront")
    current = cloudfront.get_distribution_config(Id=distribution_id)
    config = {**current["DistributionConfig"], "Comment": comment}
    cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)
    for backend in cloudfront_backends.values():
        for distributions in [b.distributions for b in backend.values()]:
            if distribution_id in distributions:
                distributions[distribution_id].etag = random_id()
                return str(distributions[distribution_id].etag)
    raise LookupError(distribution_id)
