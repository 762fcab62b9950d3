"""What an ``edge`` rollback targets (runbook procedure 4): the DNS record to the maintenance page, and/or the
CloudFront distribution disabled or given its backup configuration. At least one action.

Its revert (``rollback revert``) is an ``edge`` rollback too, with ``restore``: the record set the rollback replaced,
and/or the distribution config it stored before its change (by that store's S3 version), each put back exactly."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

RecordValue = Annotated[str, Field(min_length=1, max_length=4000)]


class ResourceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Value: RecordValue


class RecordAliasTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    HostedZoneId: str = Field(pattern=r"^[A-Z0-9]{1,32}$")
    DNSName: str = Field(min_length=1, max_length=255)
    EvaluateTargetHealth: bool


class RecordSet(BaseModel):
    """A Route 53 record set as ``list-resource-record-sets`` gives it (simple routing: values with a TTL, or an
    alias), with Route 53's own field names, so that it is UPSERTed back exactly as it was read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Name: str = Field(min_length=1, max_length=255)
    Type: Literal["A", "AAAA", "CNAME"]
    TTL: int | None = Field(default=None, ge=0, le=2147483647)
    ResourceRecords: list[ResourceRecord] | None = Field(default=None, min_length=1, max_length=100)
    AliasTarget: RecordAliasTarget | None = None

    @model_validator(mode="after")
    def _values_or_alias(self) -> Self:
        if (self.AliasTarget is None) == (self.ResourceRecords is None):
            raise ValueError("a record set has ResourceRecords (with a TTL) or an AliasTarget")
        if self.ResourceRecords is not None and self.TTL is None:
            raise ValueError("ResourceRecords need a TTL")
        return self


class StoredDistributionConfig(BaseModel):
    """A DistributionConfig an ``edge`` rollback stored before its change: its key under the configured prefix and
    the S3 version it was stored as."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=900, pattern=r"^[A-Za-z0-9!_.*'()/-]+/distribution-config\.json$")
    version_id: str = Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9._+/=-]+$")


class EdgeRestore(BaseModel):
    """What a revert puts back: the record set, the distribution config, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_set: RecordSet | None = Field(default=None, description="The record set to UPSERT back.")
    distribution_config: StoredDistributionConfig | None = Field(
        default=None, description="The stored DistributionConfig to put back (its ETag checked as for any change)."
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.record_set is None and self.distribution_config is None:
            raise ValueError("restore: record_set, distribution_config or both")
        return self


class EdgeTarget(BaseModel):
    """The ``target`` of an ``edge`` rollback."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dns_maintenance: bool = Field(
        default=False,
        description="UPSERT the configured record to the maintenance alias target (the previous record set is kept).",
    )
    cloudfront: Literal["disable", "backup_config"] | None = Field(
        default=None,
        description="disable: the distribution is disabled; backup_config: it gets the configured backup "
        "DistributionConfig. Its current config and ETag are stored first.",
    )
    restore: EdgeRestore | None = Field(
        default=None,
        description="A revert (rollback revert builds it from the report): put back the record set and/or the "
        "distribution config an edge rollback replaced.",
        json_schema_extra={"cli_option": False},
    )

    @model_validator(mode="after")
    def _some_action(self) -> Self:
        if self.restore is not None and (self.dns_maintenance or self.cloudfront is not None):
            raise ValueError("target: restore (a revert) goes alone, without dns_maintenance or cloudfront")
        if self.restore is None and not self.dns_maintenance and self.cloudfront is None:
            raise ValueError("target: dns_maintenance, cloudfront or both")
        return self
