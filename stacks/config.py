"""Deployment configuration of the pipeline, from the ``rollback`` key of the CDK context (``cdk.json``).

Validated at synth: a bad approvers directory or route fails ``cdk synth`` with the field named.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator, model_validator

from functions.models.rollback import IncidentLogs, MetricQuery, SmokeTest
from functions.rollbacks.contract import TypeConfig
from functions.rollbacks.registry import ROLLBACK_TYPES
from functions.settings import Approver
from stacks.constructs.housekeeping import PlatformTags

PROFILE_CONTEXT_KEY = "rollback:profile"  # `-c rollback:profile=local-emulation` on the CDK command line


class ConfigError(ValueError):
    """The ``rollback`` context is invalid; the message names the field."""


class StatuspageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_id: str = Field(min_length=1)
    api_key_secret_name: str = Field(min_length=1, description="Secrets Manager secret holding the API key.")
    api_base: HttpUrl = HttpUrl("https://api.statuspage.io/v1")


class ApprovalEmailConfig(BaseModel):
    """Approval emails go out through SES v2 from an identity verified beforehand (by whoever owns the domain's
    DNS); the stack references it, never creates it."""

    model_config = ConfigDict(extra="forbid")

    from_address: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Sender of approval and escalation emails."
    )
    identity: str | None = Field(
        default=None,
        min_length=1,
        description="The verified SES identity the address belongs to: a domain, or the address itself. Defaults "
        "to the address's domain.",
    )
    configuration_set: str | None = Field(
        default=None, min_length=1, description="An existing SES configuration set to send with (event publishing)."
    )

    @property
    def identity_name(self) -> str:
        return self.identity or self.from_address.rsplit("@", 1)[1].lower()

    @model_validator(mode="after")
    def _address_belongs_to_the_identity(self) -> ApprovalEmailConfig:
        address, identity = self.from_address.lower(), self.identity_name.lower()
        domain = address.rsplit("@", 1)[1]
        if address != identity and domain != identity and not domain.endswith("." + identity):
            raise ValueError(f"from_address: {self.from_address} is not an address of the identity {identity}")
        return self


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stack_name: str = "RollbackPipeline"
    profile: Literal["deployment", "local-emulation"] = Field(
        default="deployment",
        description="local-emulation: the tests and the drill, which accept cdk.json's placeholder cluster endpoint "
        "and empty CA; a deployment refuses them. Also set by the CDK context key rollback:profile.",
    )
    types: dict[str, Any] = Field(
        min_length=1,
        description="The rollback types to deploy (one state machine each), each with its own configuration.",
    )
    health_urls: dict[str, list[HttpUrl]]
    approvers: list[Approver] = Field(min_length=2)
    war_room_emails: list[str] = Field(default_factory=list)
    approval_email: ApprovalEmailConfig = Field(
        description="SES sender of the approval emails (one message per approver; SNS only broadcasts)."
    )
    slack_webhook_secret_name: str | None = Field(
        default=None, description="Secrets Manager secret holding the war room's Slack incoming-webhook URL."
    )
    statuspage: StatuspageConfig | None = None
    approver_sign_in: bool = Field(
        default=False,
        description="Create a Cognito user pool; deciding then also needs the approver's ID token (subject = "
        "approvers[].subject).",
    )
    approver_sign_in_domain_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
        description="Cognito prefix domain of the approvers' managed login (<prefix>.auth.<region>.amazoncognito."
        "com; unique in the region). Defaults to '<stack name>-approvers', lower-cased.",
    )

    @field_validator("approver_sign_in_domain_prefix")
    @classmethod
    def _no_reserved_words(cls, prefix: str | None) -> str | None:
        if prefix is not None and any(word in prefix for word in ("aws", "amazon", "cognito")):
            raise ValueError("a Cognito domain prefix may not contain aws, amazon or cognito")
        return prefix

    approval_base_url: HttpUrl | None = Field(
        default=None, description="Public base URL of the approval page; defaults to the API Gateway stage URL."
    )
    approval_timeout_seconds: int = Field(default=1800, gt=60, description="The whole approval window.")
    approval_link_ttl_seconds: int = Field(default=1500, gt=60, description="Links expire before the window.")
    escalate_after_rto_share: float = Field(
        default=0.5, gt=0, lt=1, description="Escalate when this share of the 15-minute RTO passed without a quorum."
    )
    escalation_roles: list[str] = Field(default_factory=lambda: ["cto"], min_length=1)
    lock_ttl_seconds: int = Field(
        default=3600, gt=0, description="Backstop: a lock nobody released expires; outlives any execution."
    )
    execution_timeout_seconds: int = Field(
        default=3000, gt=0, description="A rollback execution ends TIMED_OUT after this (approval, rollout, verify)."
    )
    verify_timeout_seconds: int = Field(default=300, gt=0)
    verify_metrics: dict[str, list[MetricQuery]] = Field(
        default_factory=dict,
        description="Per service, CloudWatch metrics that must be back under their thresholds (runbook defaults: "
        "error rate below 0.1 %, p95 latency below 200 ms) for the rollback to count as verified.",
    )
    preserve_logs: dict[str, IncidentLogs] = Field(
        default_factory=dict,
        description="Per service, the CloudWatch Logs groups (and the Logs Insights query) whose entries over the "
        "incident window are kept beside each rollback's record (runbook: preserve logs for investigation).",
    )
    incident_lead_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="The incident window starts this long before the detection: the logs kept and the error rate's "
        "peak are read from there.",
    )
    smoke_tests: dict[str, SmokeTest] = Field(
        default_factory=dict,
        description="Per environment, the team's smoke tests as a CodeBuild project (optional): verification waits "
        "for them to pass.",
    )
    verify_healthy_samples: int = Field(
        default=3, ge=1, description="Healthy samples in a row (10 s apart) that verify the service recovered."
    )
    log_retention_days: int = 30
    tags: PlatformTags = Field(
        description="Tags on every taggable resource: service, owner and cost-centre at least (more are allowed)."
    )
    operations_emails: list[str] = Field(
        default_factory=list, description="Who gets the pipeline's own alarms (failed executions, errors, DLQ, 5xx)."
    )
    intake_alarm_prefixes: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Alarm name prefixes delivered to intake beside those the decision matrix names: the alarms its "
        "rows match by tags, which the alarm event does not carry.",
    )

    @model_validator(mode="after")
    def _one_error_rate_per_service(self) -> PipelineConfig:
        for service, queries in self.verify_metrics.items():
            marked = [query.name for query in queries if query.error_rate]
            if len(marked) > 1:
                raise ValueError(f"verify_metrics.{service}: one query may be the error rate, not {', '.join(marked)}")
        return self

    @property
    def preserved_log_groups(self) -> list[str]:
        return sorted({group for logs in self.preserve_logs.values() for group in logs.log_groups})

    @model_validator(mode="after")
    def _timeouts_nest(self) -> PipelineConfig:
        needed = self.approval_timeout_seconds + self.verify_timeout_seconds
        if self.execution_timeout_seconds <= needed:
            raise ValueError(
                f"execution_timeout_seconds must exceed the approval window plus verification ({needed} s)"
            )
        if self.lock_ttl_seconds <= self.execution_timeout_seconds:
            raise ValueError("lock_ttl_seconds must outlive execution_timeout_seconds (the lock is the backstop)")
        return self

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
    def _types_are_registered_and_valid(self) -> PipelineConfig:
        unknown = sorted(set(self.types) - set(ROLLBACK_TYPES))
        if unknown:
            raise ValueError(
                f"types: unknown rollback type(s) {', '.join(unknown)}; registered: {', '.join(sorted(ROLLBACK_TYPES))}"
            )
        return self

    def execution_timeout_seconds_of(self, name: str) -> int:
        """The time limit of a ``name`` execution: the common one plus what the type's own states may take."""
        return self.execution_timeout_seconds + self.type_config(name).own_states_seconds()

    def type_config(self, name: str) -> TypeConfig:
        """The validated configuration of rollback type ``name`` (``rollback.types.<name>``)."""
        return ROLLBACK_TYPES[name].config_model.model_validate(self.types[name], context={"profile": self.profile})

    @model_validator(mode="after")
    def _approver_ids_unique(self) -> PipelineConfig:
        ids = [approver.id for approver in self.approvers]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"approvers: duplicate id(s) {', '.join(duplicates)}")
        return self


def _problems(error: ValidationError, prefix: str) -> str:
    return "; ".join(
        f"{prefix}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)
    )


def load_config(context: Any) -> PipelineConfig:
    if not isinstance(context, dict):
        raise ConfigError("context key 'rollback' is missing or not an object (see cdk.json)")
    try:
        config = PipelineConfig.model_validate(context)
    except ValidationError as exc:
        raise ConfigError(f"invalid CDK context: {_problems(exc, 'rollback')}") from None
    for name in config.types:
        try:
            type_config = config.type_config(name)
        except ValidationError as exc:
            raise ConfigError(f"invalid CDK context: {_problems(exc, f'rollback.types.{name}')}") from None
        if config.lock_ttl_seconds <= config.execution_timeout_seconds_of(name):
            raise ConfigError(
                f"invalid CDK context: rollback.lock_ttl_seconds must outlive a {name} execution "
                f"(execution_timeout_seconds + {type_config.own_states_seconds()} s for its own states = "
                f"{config.execution_timeout_seconds_of(name)} s); the lock is the backstop"
            )
    return config
