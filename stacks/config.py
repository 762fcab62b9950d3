"""Deployment configuration of the pipeline, from the ``rollback`` key of the CDK context (``cdk.json``).

Validated at synth: a bad approvers directory or route fails ``cdk synth`` with the field named.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

from functions.settings import Approver


class ConfigError(ValueError):
    """The ``rollback`` context is invalid; the message names the field."""


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    endpoint: HttpUrl
    ca_data: str = ""


class StatuspageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_id: str = Field(min_length=1)
    api_key_secret_name: str = Field(min_length=1, description="Secrets Manager secret holding the API key.")
    api_base: HttpUrl = HttpUrl("https://api.statuspage.io/v1")


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stack_name: str = "RollbackPipeline"
    cluster: ClusterConfig
    health_urls: dict[str, list[HttpUrl]]
    approvers: list[Approver] = Field(min_length=2)
    war_room_emails: list[str] = Field(default_factory=list)
    slack_webhook_secret_name: str | None = Field(
        default=None, description="Secrets Manager secret holding the war room's Slack incoming-webhook URL."
    )
    statuspage: StatuspageConfig | None = None
    approver_sign_in: bool = Field(
        default=False,
        description="Create a Cognito user pool; deciding then also needs the approver's ID token (subject = "
        "approvers[].subject).",
    )
    approval_base_url: HttpUrl | None = Field(
        default=None, description="Public base URL of the approval page; defaults to the API Gateway stage URL."
    )
    approval_timeout_seconds: int = Field(default=1800, gt=60, description="The whole approval window.")
    approval_link_ttl_seconds: int = Field(default=1500, gt=60, description="Links expire before the window.")
    escalate_after_rto_share: float = Field(
        default=0.5, gt=0, lt=1, description="Escalate when this share of the 15-minute RTO passed without a quorum."
    )
    escalation_roles: list[str] = Field(default_factory=lambda: ["cto"], min_length=1)
    lock_ttl_seconds: int = Field(default=3600, gt=0)
    rollout_timeout_seconds: int = Field(default=600, gt=0)
    verify_timeout_seconds: int = Field(default=300, gt=0)
    log_retention_days: int = 30

    @model_validator(mode="after")
    def _links_expire_before_the_window_closes(self) -> PipelineConfig:
        if self.approval_link_ttl_seconds >= self.approval_timeout_seconds:
            raise ValueError("approval_link_ttl_seconds must be shorter than approval_timeout_seconds")
        if self.escalate_after_rto_share * 900 >= self.approval_timeout_seconds:
            raise ValueError("escalate_after_rto_share: escalation must come before the approval window closes")
        missing = [r for r in self.escalation_roles if not any(r in a.roles for a in self.approvers)]
        if missing:
            raise ValueError(f"escalation_roles: nobody holds {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _approver_ids_unique(self) -> PipelineConfig:
        ids = [approver.id for approver in self.approvers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"approvers: duplicate id(s) {', '.join(duplicates)}")
        return self


def load_config(context: Any) -> PipelineConfig:
    if not isinstance(context, dict):
        raise ConfigError("context key 'rollback' is missing or not an object (see cdk.json)")
    try:
        return PipelineConfig.model_validate(context)
    except ValidationError as exc:
        problems = "; ".join(
            f"rollback.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigError(f"invalid CDK context: {problems}") from None
