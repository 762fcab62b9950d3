"""Typed runtime settings of the functions, read from their environment.

The environment variable names are defined once here; the CDK stack imports :class:`EnvironmentVariables`
to wire the same names, so a rename cannot leave a function reading a variable nobody sets.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum

from pydantic import BaseModel, Field, HttpUrl, ValidationError


class EnvironmentVariables(StrEnum):
    LOCKS_TABLE = "LOCKS_TABLE_NAME"
    APPROVALS_TABLE = "APPROVALS_TABLE_NAME"
    AUDIT_TABLE = "AUDIT_TABLE_NAME"
    NOTIFICATIONS_TOPIC = "NOTIFICATIONS_TOPIC_ARN"
    APPROVAL_TOPIC = "APPROVAL_TOPIC_ARN"
    APPROVAL_SIGNING_SECRET = "APPROVAL_SIGNING_SECRET_ARN"
    APPROVAL_BASE_URL = "APPROVAL_BASE_URL"
    APPROVAL_LINK_TTL_SECONDS = "APPROVAL_LINK_TTL_SECONDS"
    APPROVERS = "APPROVERS"
    LOCK_TTL_SECONDS = "LOCK_TTL_SECONDS"
    CLUSTER_NAME = "CLUSTER_NAME"
    CLUSTER_ENDPOINT = "CLUSTER_ENDPOINT"
    CLUSTER_CA_DATA = "CLUSTER_CA_DATA"
    HEALTH_URLS = "HEALTH_URLS"
    ROLLOUT_TIMEOUT_SECONDS = "ROLLOUT_TIMEOUT_SECONDS"
    VERIFY_TIMEOUT_SECONDS = "VERIFY_TIMEOUT_SECONDS"
    STATE_MACHINES = "STATE_MACHINE_ARNS"
    RTO_SECONDS = "RTO_SECONDS"
    INCIDENTS_TABLE = "INCIDENTS_TABLE_NAME"
    IDP_ISSUER = "IDP_ISSUER"
    IDP_AUDIENCE = "IDP_AUDIENCE"
    IDP_JWKS_URL = "IDP_JWKS_URL"
    SLACK_WEBHOOK_SECRET = "SLACK_WEBHOOK_SECRET_ARN"
    STATUSPAGE_API_BASE = "STATUSPAGE_API_BASE"
    STATUSPAGE_PAGE_ID = "STATUSPAGE_PAGE_ID"
    STATUSPAGE_API_KEY_SECRET = "STATUSPAGE_API_KEY_SECRET_ARN"
    APPROVAL_TIMEOUT_SECONDS = "APPROVAL_TIMEOUT_SECONDS"
    ESCALATE_AFTER_SECONDS = "ESCALATE_AFTER_SECONDS"
    ESCALATION_ROLES = "ESCALATION_ROLES"


class SettingsError(RuntimeError):
    """A function is missing configuration it needs: a deployment problem, not a rollback problem."""


def _env(name: EnvironmentVariables) -> str:
    value = os.environ.get(name.value)
    if not value:
        raise SettingsError(f"environment variable {name.value} is not set")
    return value


def _env_int(name: EnvironmentVariables, default: int) -> int:
    raw = os.environ.get(name.value)
    return int(raw) if raw else default


class Approver(BaseModel):
    """A person who may approve rollbacks, with the roles they can fill."""

    id: str = Field(min_length=1, description="Stable identity (e.g. IdP subject or employee id).")
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    roles: list[str] = Field(min_length=1)
    subject: str | None = Field(
        default=None, description="Their stable subject id at the identity provider (``sub``), when one is used."
    )


def approvers_from_json(raw: str) -> list[Approver]:
    try:
        data = json.loads(raw)
        return [Approver.model_validate(item) for item in data]
    except (ValueError, ValidationError) as exc:
        raise SettingsError(f"{EnvironmentVariables.APPROVERS.value} is not a valid approvers list: {exc}") from exc


def configured_approvers() -> list[Approver]:
    return approvers_from_json(_env(EnvironmentVariables.APPROVERS))


def approval_window() -> dict[str, object]:
    """The approval timeout and escalation, as deployed (defaults: 30 min, escalate at half the 15-min RTO)."""
    return {
        "timeout_seconds": _env_int(EnvironmentVariables.APPROVAL_TIMEOUT_SECONDS, 1800),
        "escalate_after_seconds": _env_int(EnvironmentVariables.ESCALATE_AFTER_SECONDS, 450),
        "escalation_roles": json.loads(os.environ.get(EnvironmentVariables.ESCALATION_ROLES.value) or '["cto"]'),
    }


class Tables(BaseModel):
    locks: str
    approvals: str
    audit: str

    @staticmethod
    def approvals_from_env() -> str:
        return _env(EnvironmentVariables.APPROVALS_TABLE)

    @classmethod
    def from_env(cls) -> Tables:
        return cls(
            locks=_env(EnvironmentVariables.LOCKS_TABLE),
            approvals=_env(EnvironmentVariables.APPROVALS_TABLE),
            audit=_env(EnvironmentVariables.AUDIT_TABLE),
        )


def incidents_table() -> str:
    return _env(EnvironmentVariables.INCIDENTS_TABLE)


def notifications_topic_arn() -> str:
    return _env(EnvironmentVariables.NOTIFICATIONS_TOPIC)


def lock_ttl_seconds() -> int:
    return _env_int(EnvironmentVariables.LOCK_TTL_SECONDS, 3600)


def rto_seconds() -> int:
    return _env_int(EnvironmentVariables.RTO_SECONDS, 15 * 60)


class AnnouncementSettings(BaseModel):
    """Optional channels: unset means the channel is not used (SNS to the war room always is)."""

    slack_webhook_secret_arn: str | None
    statuspage_api_base: str
    statuspage_page_id: str | None
    statuspage_api_key_secret_arn: str | None

    @classmethod
    def from_env(cls) -> AnnouncementSettings:
        env = os.environ.get
        return cls(
            slack_webhook_secret_arn=env(EnvironmentVariables.SLACK_WEBHOOK_SECRET.value) or None,
            statuspage_api_base=env(EnvironmentVariables.STATUSPAGE_API_BASE.value) or "https://api.statuspage.io/v1",
            statuspage_page_id=env(EnvironmentVariables.STATUSPAGE_PAGE_ID.value) or None,
            statuspage_api_key_secret_arn=env(EnvironmentVariables.STATUSPAGE_API_KEY_SECRET.value) or None,
        )


class IdentityProviderSettings(BaseModel):
    issuer: str
    audience: str
    jwks_url: str

    @classmethod
    def from_env(cls) -> IdentityProviderSettings | None:
        """None when no identity provider is configured (the signed link alone identifies the approver)."""
        issuer = os.environ.get(EnvironmentVariables.IDP_ISSUER.value)
        if not issuer:
            return None
        return cls(
            issuer=issuer,
            audience=_env(EnvironmentVariables.IDP_AUDIENCE),
            jwks_url=os.environ.get(EnvironmentVariables.IDP_JWKS_URL.value)
            or f"{issuer.rstrip('/')}/.well-known/jwks.json",
        )


class ApprovalSettings(BaseModel):
    topic_arn: str
    signing_secret_arn: str
    base_url: HttpUrl | None  # only the request step builds links; the page itself does not need it
    link_ttl_seconds: int = Field(gt=0)
    approvers: list[Approver]

    @classmethod
    def from_env(cls) -> ApprovalSettings:
        return cls(
            topic_arn=_env(EnvironmentVariables.APPROVAL_TOPIC),
            signing_secret_arn=_env(EnvironmentVariables.APPROVAL_SIGNING_SECRET),
            base_url=os.environ.get(EnvironmentVariables.APPROVAL_BASE_URL.value) or None,
            link_ttl_seconds=_env_int(EnvironmentVariables.APPROVAL_LINK_TTL_SECONDS, 1500),
            approvers=configured_approvers(),
        )


class ClusterSettings(BaseModel):
    name: str
    endpoint: str
    ca_data: str | None = None
    rollout_timeout_seconds: int = 600

    @classmethod
    def from_env(cls) -> ClusterSettings:
        return cls(
            name=_env(EnvironmentVariables.CLUSTER_NAME),
            endpoint=_env(EnvironmentVariables.CLUSTER_ENDPOINT),
            ca_data=os.environ.get(EnvironmentVariables.CLUSTER_CA_DATA.value) or None,
            rollout_timeout_seconds=_env_int(EnvironmentVariables.ROLLOUT_TIMEOUT_SECONDS, 600),
        )


class VerificationSettings(BaseModel):
    health_urls: dict[str, list[str]]
    timeout_seconds: int = 300

    @classmethod
    def from_env(cls) -> VerificationSettings:
        raw = os.environ.get(EnvironmentVariables.HEALTH_URLS.value) or "{}"
        try:
            urls = json.loads(raw)
        except ValueError as exc:
            raise SettingsError(f"{EnvironmentVariables.HEALTH_URLS.value} is not JSON: {exc}") from exc
        return cls(
            health_urls=urls,
            timeout_seconds=_env_int(EnvironmentVariables.VERIFY_TIMEOUT_SECONDS, 300),
        )


def state_machine_arns() -> dict[str, str]:
    raw = _env(EnvironmentVariables.STATE_MACHINES)
    try:
        arns: dict[str, str] = json.loads(raw)
    except ValueError as exc:
        raise SettingsError(f"{EnvironmentVariables.STATE_MACHINES.value} is not JSON: {exc}") from exc
    return arns
