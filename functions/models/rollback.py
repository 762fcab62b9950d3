"""The workflow's data: the input operators and intake send, and what each step hands to the next."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from functions.kubernetes.models import UndoPlan as DeploymentPlan  # what will change for one Deployment

Severity = Literal["P0", "P1", "P2", "P3"]

K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DeploymentName = Annotated[str, Field(pattern=K8S_NAME, max_length=253)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlarmReference(StrictModel):
    """The CloudWatch alarm that triggered the rollback, if any."""

    name: str = Field(min_length=1)
    state_change_time: AwareDatetime
    reason: str | None = None
    region: str | None = None
    account: str | None = None


class KubernetesAppRollbackInput(StrictModel):
    """Input of the ``kubernetes_app`` workflow (``aws stepfunctions start-execution --input``)."""

    service: str = Field(pattern=K8S_NAME, max_length=63, description="Service being rolled back, e.g. skillancer.")
    environment: str = Field(pattern=K8S_NAME, max_length=63, description="Environment, e.g. production.")
    namespace: str | None = Field(
        default=None, pattern=K8S_NAME, max_length=63, description="Kubernetes namespace; defaults to the environment."
    )
    deployments: list[DeploymentName] = Field(
        min_length=1, max_length=20, description="Deployments to roll back together, e.g. skillancer-web."
    )
    to_revision: int | None = Field(default=None, ge=1, description="Roll back to this revision (kubectl numbering).")
    to_version: str | None = Field(
        default=None,
        min_length=1,
        description="Roll back to the newest revision whose image tag equals this version, e.g. v1.0.0-rc.5.",
    )
    reason: str = Field(min_length=3, max_length=2000, description="Why: shown to approvers and in the report.")
    requested_by: str = Field(min_length=1, description="Identity of the requester (cannot approve).")
    scenario: str = Field(default="Manual rollback", min_length=1)
    severity: Severity = "P1"
    required_roles: list[str] = Field(
        default_factory=lambda: ["on-call", "lead"],
        min_length=1,
        description="Roles that must each approve, by distinct people.",
    )
    health_urls: list[HttpUrl] | None = Field(
        default=None, description="Health endpoints that must answer healthy; defaults to the configured ones."
    )
    feature_flags: list[str] = Field(
        default_factory=list, description="Feature flags that could fix the issue instead (reported by the checks)."
    )
    detected_at: AwareDatetime | None = Field(
        default=None, description="When the incident was detected (starts the RTO clock); defaults to the start."
    )
    alarm: AlarmReference | None = None
    dry_run: bool = Field(default=False, description="Run every check and show the plan without changing anything.")

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if len(set(self.deployments)) != len(self.deployments):
            raise ValueError("deployments: each deployment may appear only once")
        if self.to_revision is not None and self.to_version is not None:
            raise ValueError("to_revision and to_version are mutually exclusive")
        return self


class ApprovalWindow(StrictModel):
    """How long approvers have: the next tier is told after ``escalate_after_seconds`` without a quorum, and
    the request times out after ``timeout_seconds`` (the workflow reads these as its timeouts)."""

    timeout_seconds: int = Field(gt=0)
    escalate_after_seconds: int = Field(gt=0)
    escalation_roles: list[str]
    after_escalation_seconds: int = Field(default=0, description="What is left of the window once escalated.")

    @model_validator(mode="after")
    def _escalation_before_timeout(self) -> Self:
        if self.escalate_after_seconds >= self.timeout_seconds:
            raise ValueError("escalate_after_seconds must be shorter than timeout_seconds")
        remaining = self.timeout_seconds - self.escalate_after_seconds
        if self.after_escalation_seconds != remaining:
            object.__setattr__(self, "after_escalation_seconds", remaining)
        return self


class RollbackRequest(StrictModel):
    """The validated request: the input with defaults resolved and the rollback's identity."""

    rollback_id: str
    execution_arn: str
    rollback_type: Literal["kubernetes_app"] = "kubernetes_app"
    service: str
    environment: str
    namespace: str
    deployments: list[str]
    to_revision: int | None
    to_version: str | None
    reason: str
    requested_by: str
    scenario: str
    severity: Severity
    required_roles: list[str]
    health_urls: list[str]
    feature_flags: list[str]
    started_at: datetime
    detected_at: datetime
    alarm: AlarmReference | None
    dry_run: bool
    approval_window: ApprovalWindow

    @property
    def lock_key(self) -> str:
        return f"{self.service}#{self.environment}"


class PreCheckResult(StrictModel):
    deployments: list[DeploymentPlan]
    feature_flag_options: list[str]
    summary: str


class LockLease(StrictModel):
    key: str
    owner: str
    acquired_at: datetime
    expires_at: datetime


class ApprovalRecord(StrictModel):
    """One approver's decision, as recorded by the approval service."""

    approver_id: str
    name: str
    role: str
    decided_at: datetime
    source_ip: str | None = None
    user_agent: str | None = None
    comment: str | None = None


class ApprovalOutcome(StrictModel):
    approval_id: str
    approvals: list[ApprovalRecord]


class DeploymentChange(StrictModel):
    """What one Deployment's rollback did."""

    target: str
    namespace: str
    from_version: str
    to_version: str
    from_revision: int
    to_revision: int
    skipped: bool
    message: str
    started_at: datetime


class RolloutProgress(StrictModel):
    done: bool
    message: str
    revision: int


class HealthCheck(StrictModel):
    url: str
    status_code: int | None
    status: str | None
    healthy: bool
    detail: str


class HealthVerification(StrictModel):
    healthy: bool
    checks: list[HealthCheck]
    attempt: int
    first_attempt_at: datetime
    verified_at: datetime | None


class TimelineEntry(StrictModel):
    at: datetime
    event: str


class RollbackReport(StrictModel):
    rollback_id: str
    scenario: str
    severity: Severity
    status: Literal["SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "PLANNED"]
    execution_arn: str
    service: str
    environment: str
    timeline: list[TimelineEntry]
    rto_seconds: float | None
    rto_target_seconds: int
    rto_met: bool | None
    rpo_seconds: float | None
    approvals: list[ApprovalRecord]
    changes: list[dict[str, object]]
    announcements: list[dict[str, object]] = Field(default_factory=list)
    post_mortem_markdown: str


class FailureInfo(StrictModel):
    """The ``$.error`` object a Catch puts in the state: ``{"Error": ..., "Cause": ...}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")
