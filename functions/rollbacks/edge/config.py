"""Deployment configuration of ``edge`` (``rollback.types.edge`` in ``cdk.json``): the record and the maintenance
alias target (runbook procedure 4's change batch), the distribution, where its backup config is and where its
current config is stored before a change (a versioned bucket), and the maintenance page to verify."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from functions.rollbacks.contract import Permission, TypeConfig
from functions.settings import FunctionSettings

BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


class AliasTarget(BaseModel):
    """The maintenance alias target, as Route 53's ``AliasTarget`` names it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosted_zone_id: str = Field(
        pattern=r"^[A-Z0-9]{1,32}$", description="The alias target's zone, e.g. Z2FDTNDATAQYW2."
    )
    dns_name: str = Field(min_length=1, max_length=255, description="e.g. maintenance.skillancer.com.")
    evaluate_target_health: Literal[False] = False


class S3Location(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(pattern=BUCKET)
    key: str = Field(min_length=1, max_length=900, pattern=r"^[A-Za-z0-9!_.*'()/-]+$")


class MaintenancePage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(description="Where the site answers with the maintenance page once the change is live.")
    expected_text: str = Field(min_length=3, max_length=200, description="Text the maintenance page contains.")


class EdgeSite(BaseModel):
    """The record, the distribution and the maintenance page of the site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hosted_zone_id: str = Field(pattern=r"^[A-Z0-9]{1,32}$")
    record_name: str = Field(min_length=1, max_length=255, description="e.g. skillancer.com. (trailing dot optional)")
    record_type: Literal["A", "AAAA", "CNAME"] = "A"
    maintenance_target: AliasTarget
    distribution_id: str = Field(pattern=r"^[A-Z0-9]{1,32}$")
    backup_config: S3Location = Field(description="The DistributionConfig (JSON) applied by cloudfront=backup_config.")
    saved_states: S3Location = Field(
        description="Bucket (versioning on) and key prefix where the current DistributionConfig and ETag are stored "
        "before any change: <key>/<rollback id>/distribution-config.json."
    )
    maintenance_page: MaintenancePage

    @property
    def fqdn(self) -> str:
        return self.record_name if self.record_name.endswith(".") else self.record_name + "."


class EdgeConfig(TypeConfig):
    site: EdgeSite

    def own_states_seconds(self) -> int:
        """A distribution takes up to 15-25 minutes to deploy; the record's change, a minute."""
        return 2700

    def environment(self) -> Mapping[str, str]:
        return EdgeSettings(edge_site=self.site).as_environment()

    def permissions(self, function: str) -> Sequence[Permission]:
        site = self.site
        zone = f"hostedzone/{site.hosted_zone_id}"
        distribution = f"distribution/{site.distribution_id}"
        saved = f"{site.saved_states.bucket}/{site.saved_states.key.rstrip('/')}/*"
        backup = f"{site.backup_config.bucket}/{site.backup_config.key}"
        read_cf = ("cloudfront:GetDistributionConfig", "cloudfront:GetDistribution")
        read_saved = Permission(
            ("s3:GetObject", "s3:GetObjectVersion"),
            "s3",
            (saved,),
            scope="global",
            reason="a revert reads the state an earlier rollback stored; a retry, the one it stored itself",
        )
        found: dict[str, list[Permission]] = {
            "Plan": [
                Permission(("route53:ListResourceRecordSets",), "route53", (zone,), scope="global"),
                Permission(read_cf, "cloudfront", (distribution,), scope="account"),
                Permission(("s3:GetObject",), "s3", (backup,), scope="global"),
                read_saved,
            ],
            "ChangeRecord": [
                Permission(
                    ("route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"),
                    "route53",
                    (zone,),
                    scope="global",
                ),
            ],
            "CheckRecordChange": [
                Permission(
                    ("route53:GetChange",),
                    "route53",
                    ("change/*",),
                    scope="global",
                    reason="a change's id is known only once it is submitted",
                ),
            ],
            "ChangeDistribution": [
                Permission((*read_cf, "cloudfront:UpdateDistribution"), "cloudfront", (distribution,), scope="account"),
                Permission(("s3:GetObject",), "s3", (backup,), scope="global"),
                Permission(
                    ("s3:PutObject",),
                    "s3",
                    (saved,),
                    scope="global",
                    reason="one stored state per rollback, under the configured prefix",
                ),
                read_saved,
            ],
            "CheckDistribution": [
                Permission(("cloudfront:GetDistribution",), "cloudfront", (distribution,), scope="account")
            ],
        }
        return found.get(function, [])


class EdgeSettings(FunctionSettings):
    """Runtime settings of the ``edge`` functions."""

    edge_site: EdgeSite
