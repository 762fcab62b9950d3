"""Route 53, CloudFront and S3 as the ``edge`` steps use them: the configured record set, the distribution's
config with its ETag, the backup config, the stored states."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.rollbacks.edge.config import EdgeSite, S3Location
from functions.rollbacks.edge.errors import BackupConfigInvalid, RecordNotFound, StoredConfigNotFound


def record_set(route53: Any, site: EdgeSite) -> dict[str, Any]:
    """The configured record set exactly as Route 53 lists it (what a revert UPSERTs back)."""
    found = route53.list_resource_record_sets(
        HostedZoneId=site.hosted_zone_id, StartRecordName=site.fqdn, StartRecordType=site.record_type, MaxItems="1"
    )["ResourceRecordSets"]
    for record in found:
        if record["Name"].rstrip(".").lower() == site.fqdn.rstrip(".").lower() and record["Type"] == site.record_type:
            return dict(record)
    raise RecordNotFound(f"no {site.record_type} record {site.fqdn} in hosted zone {site.hosted_zone_id}")


def maintenance_record_set(site: EdgeSite) -> dict[str, Any]:
    """The runbook's change batch record: the record as an alias of the maintenance target."""
    target = site.maintenance_target
    return {
        "Name": site.fqdn,
        "Type": site.record_type,
        "AliasTarget": {
            "HostedZoneId": target.hosted_zone_id,
            "DNSName": target.dns_name,
            "EvaluateTargetHealth": target.evaluate_target_health,
        },
    }


def is_maintenance(record: dict[str, Any], site: EdgeSite) -> bool:
    return same_answer(record, maintenance_record_set(site))


def same_answer(record: dict[str, Any], other: dict[str, Any]) -> bool:
    """Both answer alike: the same alias target, or the same values with the same TTL (names compare as DNS does:
    case-insensitive, trailing dot optional)."""

    def answer(r: dict[str, Any]) -> tuple[Any, ...]:
        alias = r.get("AliasTarget")
        if alias:
            return ("alias", alias.get("HostedZoneId"), str(alias.get("DNSName", "")).rstrip(".").lower())
        values = sorted(str(v.get("Value", "")).rstrip(".").lower() for v in r.get("ResourceRecords") or [])
        return ("values", r.get("TTL"), tuple(values))

    return answer(record) == answer(other)


def describe_record(record: dict[str, Any]) -> str:
    alias = record.get("AliasTarget")
    if alias:
        return f"alias {alias['DNSName']} (zone {alias['HostedZoneId']})"
    values = ", ".join(r["Value"] for r in record.get("ResourceRecords", []))
    return f"{values} (TTL {record.get('TTL')})"


@dataclass(frozen=True)
class DistributionState:
    config: dict[str, Any]
    etag: str

    @property
    def digest(self) -> str:
        return digest(self.config)

    @property
    def enabled(self) -> bool:
        return bool(self.config.get("Enabled"))


def digest(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def distribution_state(cloudfront: Any, site: EdgeSite) -> DistributionState:
    answer = cloudfront.get_distribution_config(Id=site.distribution_id)
    return DistributionState(config=answer["DistributionConfig"], etag=str(answer["ETag"]))


def read_json(s3: Any, location: S3Location, version_id: str | None = None) -> dict[str, Any]:
    extra = {"VersionId": version_id} if version_id else {}
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key, **extra)["Body"].read()
        loaded = json.loads(body)
    except ValueError as error:
        raise BackupConfigInvalid(f"s3://{location.bucket}/{location.key}: not JSON ({error})") from None
    if not isinstance(loaded, dict):
        raise BackupConfigInvalid(f"s3://{location.bucket}/{location.key}: not a JSON object")
    return loaded


def backup_config(s3: Any, site: EdgeSite) -> dict[str, Any]:
    """The backup DistributionConfig (a file holding either the config or get-distribution-config's answer)."""
    loaded = read_json(s3, site.backup_config)
    config = loaded.get("DistributionConfig", loaded)
    if not isinstance(config, dict) or "Origins" not in config or "CallerReference" not in config:
        where = f"s3://{site.backup_config.bucket}/{site.backup_config.key}"
        raise BackupConfigInvalid(f"{where} is not a DistributionConfig (no Origins or CallerReference)")
    return config


def saved_state_location(site: EdgeSite, rollback_id: str) -> S3Location:
    prefix = site.saved_states.key.rstrip("/")
    return S3Location(bucket=site.saved_states.bucket, key=f"{prefix}/{rollback_id}/distribution-config.json")


def stored_state_location(site: EdgeSite, key: str) -> S3Location:
    """Where an earlier rollback stored a DistributionConfig: only under the configured prefix."""
    prefix = site.saved_states.key.rstrip("/") + "/"
    if not key.startswith(prefix) or ".." in key.split("/"):
        raise StoredConfigNotFound(f"target.restore.distribution_config.key: {key} is not under {prefix}")
    return S3Location(bucket=site.saved_states.bucket, key=key)


def stored_config(s3: Any, site: EdgeSite, key: str, version_id: str) -> dict[str, Any]:
    """The DistributionConfig stored at ``key`` (that exact version)."""
    location = stored_state_location(site, key)
    try:
        config = read_json(s3, location, version_id)
    except s3.exceptions.NoSuchKey:
        raise StoredConfigNotFound(f"s3://{location.bucket}/{key} version {version_id}: not found") from None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchVersion", "InvalidArgument", "404"):
            raise StoredConfigNotFound(f"s3://{location.bucket}/{key} version {version_id}: not found") from None
        raise
    if "Origins" not in config or "CallerReference" not in config:
        raise BackupConfigInvalid(f"s3://{location.bucket}/{key} is not a DistributionConfig")
    return config


def own_saved_state(s3: Any, site: EdgeSite, rollback_id: str) -> tuple[str, str] | None:
    """The ETag and S3 version of the state this rollback stored before its change, if it stored one (a retry
    after a lost answer finds it)."""
    location = saved_state_location(site, rollback_id)
    try:
        head = s3.head_object(Bucket=location.bucket, Key=location.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(head.get("Metadata", {}).get("etag", "")), str(head.get("VersionId") or "null")


def save_state(s3: Any, site: EdgeSite, rollback_id: str, state: DistributionState) -> tuple[S3Location, str]:
    """Store the distribution's current config (as ``--distribution-config`` reads it) with its ETag; returns the
    location and the object's version."""
    location = saved_state_location(site, rollback_id)
    answer = s3.put_object(
        Bucket=location.bucket,
        Key=location.key,
        Body=json.dumps(state.config, indent=1, default=str).encode(),
        ContentType="application/json",
        Metadata={"etag": state.etag, "distribution-id": site.distribution_id},
    )
    return location, str(answer.get("VersionId") or "null")
