"""What an ``edge`` rollback targets (runbook procedure 4): the DNS record to the maintenance page, and/or the
CloudFront distribution disabled or given its backup configuration. At least one action."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


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

    @model_validator(mode="after")
    def _some_action(self) -> Self:
        if not self.dns_maintenance and self.cloudfront is None:
            raise ValueError("target: dns_maintenance, cloudfront or both")
        return self
