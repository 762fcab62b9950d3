"""Typed runtime settings of the functions, read from their environment with pydantic-settings and checked once
per cold start (:func:`load_settings`).

The environment variable names are defined once here; the CDK stack imports :class:`EnvironmentVariables`
to wire the same names, so a rename cannot leave a function reading a variable nobody sets.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, Field, HttpUrl, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from functions.models.rollback import IncidentLogs, MetricQuery, SmokeTest


class EnvironmentVariables(StrEnum):
    LOCKS_TABLE = "LOCKS_TABLE_NAME"
    APPROVALS_TABLE = "APPROVALS_TABLE_NAME"
    AUDIT_TABLE = "AUDIT_TABLE_NAME"
    NOTIFICATIONS_TOPIC = "NOTIFICATIONS_TOPIC_ARN"
    APPROVAL_EMAIL_FROM = "APPROVAL_EMAIL_FROM"
    APPROVAL_EMAIL_CONFIGURATION_SET = "APPROVAL_EMAIL_CONFIGURATION_SET"
    APPROVAL_SIGNING_SECRET = "APPROVAL_SIGNING_SECRET_ARN"
    APPROVAL_BASE_URL = "APPROVAL_BASE_URL"
    APPROVAL_LINK_TTL_SECONDS = "APPROVAL_LINK_TTL_SECONDS"
    APPROVERS = "APPROVERS"
    LOCK_TTL_SECONDS = "LOCK_TTL_SECONDS"
    HEALTH_URLS = "HEALTH_URLS"
    VERIFY_TIMEOUT_SECONDS = "VERIFY_TIMEOUT_SECONDS"
    VERIFY_HEALTHY_SAMPLES = "VERIFY_HEALTHY_SAMPLES"
    VERIFY_METRICS = "VERIFY_METRICS"
    VERIFY_SMOKE_TESTS = "VERIFY_SMOKE_TESTS"
    STATE_MACHINES = "STATE_MACHINE_ARNS"
    RTO_SECONDS = "RTO_SECONDS"
    INCIDENTS_TABLE = "INCIDENTS_TABLE_NAME"
    IDP_ISSUER = "IDP_ISSUER"
    IDP_AUDIENCE = "IDP_AUDIENCE"
    IDP_JWKS_URL = "IDP_JWKS_URL"
    IDP_AUTHORIZE_URL = "IDP_AUTHORIZE_URL"
    IDP_TOKEN_URL = "IDP_TOKEN_URL"
    IDP_REDIRECT_URI = "IDP_REDIRECT_URI"
    SLACK_WEBHOOK_SECRET = "SLACK_WEBHOOK_SECRET_ARN"
    STATUSPAGE_API_BASE = "STATUSPAGE_API_BASE"
    STATUSPAGE_PAGE_ID = "STATUSPAGE_PAGE_ID"
    STATUSPAGE_API_KEY_SECRET = "STATUSPAGE_API_KEY_SECRET_ARN"
    APPROVAL_TIMEOUT_SECONDS = "APPROVAL_TIMEOUT_SECONDS"
    RECORDS_BUCKET = "RECORDS_BUCKET_NAME"
    ESCALATE_AFTER_SECONDS = "ESCALATE_AFTER_SECONDS"
    ESCALATION_ROLES = "ESCALATION_ROLES"
    PRESERVE_LOGS = "PRESERVE_LOGS"
    INCIDENT_LEAD_SECONDS = "INCIDENT_LEAD_SECONDS"


Env = EnvironmentVariables


class SettingsError(RuntimeError):
    """A function is missing configuration it needs: a configuration problem, not a rollback problem."""


class FunctionSettings(BaseSettings):
    """Settings read from the function's environment: a field reads the variable named by its alias, else the
    upper-cased field name. Empty variables count as unset."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, env_ignore_empty=True, validate_by_name=True
    )

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> environment variable."""
        return {
            name: str(field.validation_alias) if isinstance(field.validation_alias, str) else name.upper()
            for name, field in cls.model_fields.items()
        }

    def as_environment(self) -> dict[str, str]:
        """The environment variables that load these settings (for CDK, which sets them)."""
        variables = self.variables()
        return {
            variables[name]: value if isinstance(value, str) else json.dumps(value)
            for name, value in self.model_dump(mode="json").items()
            if value is not None
        }


SettingsT = TypeVar("SettingsT", bound=FunctionSettings)
_loaded: dict[tuple[type[FunctionSettings], tuple[str | None, ...]], Any] = {}


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """``cls`` read and checked once per environment: once per cold start in Lambda (the emulators run several
    functions in one process, each with its own environment, so the cache is keyed by the values)."""
    variables = cls.variables()
    key = (cls, tuple(os.environ.get(variable) for variable in variables.values()))
    if key not in _loaded:
        try:
            _loaded[key] = cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{variables.get(str(e['loc'][0]), str(e['loc'][0]))}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise SettingsError(f"{cls.__name__}: {problems}") from None
    settings: SettingsT = _loaded[key]
    return settings


class Approver(BaseModel):
    """A person who may approve rollbacks, with the roles they can fill."""

    id: str = Field(min_length=1, description="Stable identity (e.g. IdP subject or employee id).")
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    roles: list[str] = Field(min_length=1)
    subject: str | None = Field(
        default=None, description="Their stable subject id at the identity provider (``sub``), when one is used."
    )


class ValidationSettings(FunctionSettings):
    """What the first step needs to turn an input into a request."""

    approvers: list[Approver] = Field(validation_alias=Env.APPROVERS)
    health_urls: dict[str, list[str]] = Field(default_factory=dict, validation_alias=Env.HEALTH_URLS)
    approval_timeout_seconds: int = Field(default=1800, gt=0, validation_alias=Env.APPROVAL_TIMEOUT_SECONDS)
    escalate_after_seconds: int = Field(default=450, gt=0, validation_alias=Env.ESCALATE_AFTER_SECONDS)
    escalation_roles: list[str] = Field(default_factory=lambda: ["cto"], validation_alias=Env.ESCALATION_ROLES)

    def approval_window(self) -> dict[str, object]:
        """The approval timeout and escalation, as deployed (defaults: 30 min, escalate at half the 15-min RTO)."""
        return {
            "timeout_seconds": self.approval_timeout_seconds,
            "escalate_after_seconds": self.escalate_after_seconds,
            "escalation_roles": self.escalation_roles,
        }


class ChangeStepSettings(FunctionSettings):
    """What a step that changes the world needs besides its own: the approval to re-check, the trail to record in."""

    approvals_table_name: str = Field(min_length=1, validation_alias=Env.APPROVALS_TABLE)
    audit_table_name: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)


class ApprovalTables(FunctionSettings):
    """The approval functions' tables: approval requests and the audit trail."""

    approvals: str = Field(min_length=1, validation_alias=Env.APPROVALS_TABLE)
    audit: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)


class LockSettings(FunctionSettings):
    locks_table_name: str = Field(min_length=1, validation_alias=Env.LOCKS_TABLE)
    audit_table_name: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)
    lock_ttl_seconds: int = Field(default=3600, gt=0, validation_alias=Env.LOCK_TTL_SECONDS)


class ClosingSettings(FunctionSettings):
    """What closing out a record reads (functions/logic/closing.py): the error-rate metric and the log groups of
    each service, how long before the detection the incident window starts, the incidents to close out."""

    metrics: dict[str, list[MetricQuery]] = Field(
        default_factory=dict, validation_alias=Env.VERIFY_METRICS, description="Per service: its error rate's peak."
    )
    preserve_logs: dict[str, IncidentLogs] = Field(
        default_factory=dict, validation_alias=Env.PRESERVE_LOGS, description="Per service: its logs to keep."
    )
    incident_lead_seconds: int = Field(default=300, ge=0, validation_alias=Env.INCIDENT_LEAD_SECONDS)
    incidents_table_name: str | None = Field(default=None, validation_alias=Env.INCIDENTS_TABLE)


class ReportSettings(ClosingSettings):
    audit_table_name: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)
    notifications_topic_arn: str = Field(min_length=1, validation_alias=Env.NOTIFICATIONS_TOPIC)
    rto_seconds: int = Field(default=15 * 60, gt=0, validation_alias=Env.RTO_SECONDS)
    records_bucket_name: str | None = Field(default=None, validation_alias=Env.RECORDS_BUCKET)


class CleanupSettings(ClosingSettings):
    """The clean-up after an execution ended outside its own outcome chain (stopped, timed out, uncatchable)."""

    locks_table_name: str = Field(min_length=1, validation_alias=Env.LOCKS_TABLE)
    approvals_table_name: str = Field(min_length=1, validation_alias=Env.APPROVALS_TABLE)
    audit_table_name: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)
    notifications_topic_arn: str = Field(min_length=1, validation_alias=Env.NOTIFICATIONS_TOPIC)
    rto_seconds: int = Field(default=15 * 60, gt=0, validation_alias=Env.RTO_SECONDS)
    records_bucket_name: str | None = Field(default=None, validation_alias=Env.RECORDS_BUCKET)


class IntakeSettings(FunctionSettings):
    incidents_table_name: str = Field(min_length=1, validation_alias=Env.INCIDENTS_TABLE)
    notifications_topic_arn: str = Field(min_length=1, validation_alias=Env.NOTIFICATIONS_TOPIC)
    state_machine_arns: dict[str, str] = Field(validation_alias=Env.STATE_MACHINES)


class AnnouncementSettings(FunctionSettings):
    """Optional channels: unset means the channel is not used (SNS to the war room always is)."""

    notifications_topic_arn: str = Field(min_length=1, validation_alias=Env.NOTIFICATIONS_TOPIC)
    audit_table_name: str = Field(min_length=1, validation_alias=Env.AUDIT_TABLE)  # what was announced already
    slack_webhook_secret_arn: str | None = Field(default=None, validation_alias=Env.SLACK_WEBHOOK_SECRET)
    statuspage_api_base: str = Field(default="https://api.statuspage.io/v1", validation_alias=Env.STATUSPAGE_API_BASE)
    statuspage_page_id: str | None = Field(default=None, validation_alias=Env.STATUSPAGE_PAGE_ID)
    statuspage_api_key_secret_arn: str | None = Field(default=None, validation_alias=Env.STATUSPAGE_API_KEY_SECRET)


class IdentityProviderSettings(FunctionSettings):
    issuer: str = Field(min_length=1, validation_alias=Env.IDP_ISSUER)
    audience: str = Field(min_length=1, validation_alias=Env.IDP_AUDIENCE)
    jwks_url: str = Field(default="", validation_alias=Env.IDP_JWKS_URL)
    # The browser sign-in (authorization code + PKCE); the app client id is the ID token's audience.
    authorize_url: str | None = Field(default=None, validation_alias=Env.IDP_AUTHORIZE_URL)
    token_url: str | None = Field(default=None, validation_alias=Env.IDP_TOKEN_URL)
    redirect_uri: str | None = Field(default=None, validation_alias=Env.IDP_REDIRECT_URI)

    @property
    def browser_sign_in(self) -> bool:
        return bool(self.authorize_url and self.token_url and self.redirect_uri)

    def model_post_init(self, context: Any) -> None:
        if not self.jwks_url:
            object.__setattr__(self, "jwks_url", f"{self.issuer.rstrip('/')}/.well-known/jwks.json")


def identity_provider() -> IdentityProviderSettings | None:
    """None when no identity provider is configured (the signed link alone identifies the approver)."""
    if not os.environ.get(Env.IDP_ISSUER):
        return None
    return load_settings(IdentityProviderSettings)


class ApprovalSettings(FunctionSettings):
    signing_secret_arn: str = Field(min_length=1, validation_alias=Env.APPROVAL_SIGNING_SECRET)
    # only the request step builds links; the page itself does not need it
    base_url: HttpUrl | None = Field(default=None, validation_alias=Env.APPROVAL_BASE_URL)
    link_ttl_seconds: int = Field(default=1500, gt=0, validation_alias=Env.APPROVAL_LINK_TTL_SECONDS)
    approvers: list[Approver] = Field(validation_alias=Env.APPROVERS)


class ApprovalEmailSettings(FunctionSettings):
    """How the request and escalation steps send their emails: SES v2, from a verified identity's address."""

    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", validation_alias=Env.APPROVAL_EMAIL_FROM)
    configuration_set: str | None = Field(default=None, validation_alias=Env.APPROVAL_EMAIL_CONFIGURATION_SET)


class VerificationSettings(FunctionSettings):
    timeout_seconds: int = Field(default=300, gt=0, validation_alias=Env.VERIFY_TIMEOUT_SECONDS)
    healthy_samples: int = Field(default=3, ge=1, validation_alias=Env.VERIFY_HEALTHY_SAMPLES)
    metrics: dict[str, list[MetricQuery]] = Field(
        default_factory=dict, validation_alias=Env.VERIFY_METRICS, description="Per service, what must recover."
    )
    smoke_tests: dict[str, SmokeTest] = Field(
        default_factory=dict, validation_alias=Env.VERIFY_SMOKE_TESTS, description="Per environment, optional."
    )
