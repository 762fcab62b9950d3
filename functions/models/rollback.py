"""The workflow's data: the envelope every rollback type shares, and what each step hands to the next.

Only generic shapes live here. A rollback type adds its own ``target`` model (in its slice) and speaks to the
spine through :class:`PlannedChange` (what its pre-checks found) and :class:`ChangeRecord` (what its execute
step did): the approval page, the emails, the announcements, the report and the CLI render only these.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    field_validator,
    model_validator,
)

from functions.text import bounded

Severity = Literal["P0", "P1", "P2", "P3"]

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
RollbackTypeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


def _rfc3339_text(value: object) -> object:
    """A time is written as RFC 3339 text, as the schema's ``date-time`` says: not an epoch, not "1"."""
    if isinstance(value, str):
        if not RFC3339.match(value):
            raise ValueError("expected an RFC 3339 date-time such as 2026-11-28T03:00:00Z")
        return datetime.fromisoformat(value)
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
HealthUrl = Annotated[HttpUrl, Field(max_length=2048, json_schema_extra={"pattern": "^https?://"})]

# Bounded text: a line of text (no control characters), and a role or flag name.
Line = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]


class AlarmReference(StrictModel):
    """The CloudWatch alarm that triggered the rollback, if any."""

    name: Line
    state_change_time: Timestamp
    reason: str | None = Field(default=None, max_length=1024)
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", max_length=32)
    account: str | None = Field(default=None, pattern=r"^\d{12}$")


class RollbackEnvelope(StrictModel):
    """What every rollback's input holds, whatever its type; the type's own fields are its ``target``."""

    service: str = Field(pattern=NAME_PATTERN, max_length=63, description="Service being rolled back, e.g. skillancer.")
    environment: str = Field(pattern=NAME_PATTERN, max_length=63, description="Environment, e.g. production.")
    reason: str = Field(min_length=3, max_length=2000, description="Why: shown to approvers and in the report.")
    requested_by: Line = Field(description="Identity of the requester (cannot approve).")
    scenario: Line = Field(default="Manual rollback", description="Decision-matrix scenario.")
    severity: Severity = Field(default="P1", description="P0-P3.")
    required_roles: list[Name] = Field(
        default_factory=lambda: ["on-call", "lead"],
        min_length=1,
        max_length=6,
        description="Roles that must each approve, by distinct people.",
    )
    health_urls: list[HealthUrl] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="Health endpoints that must answer healthy (https, on a configured host); default: the configured "
        "ones.",
    )
    feature_flags: list[Name] = Field(
        default_factory=list,
        max_length=20,
        description="Feature flags that could fix the issue instead (reported by the checks).",
    )
    detected_at: Timestamp | None = Field(
        default=None, description="When the incident was detected (starts the RTO clock); defaults to the start."
    )
    alarm: AlarmReference | None = None
    dry_run: bool = Field(default=False, description="Run every check and show the plan without changing anything.")


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
    """The validated request: the envelope with defaults resolved, the rollback's identity, and the type's
    ``target`` as validated by its slice (opaque to the spine)."""

    rollback_id: str
    execution_arn: str
    rollback_type: RollbackTypeName
    service: str
    environment: str
    target: dict[str, JsonValue]
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
    def service_lock_key(self) -> str:
        return f"{self.service}#{self.environment}"


class PlannedChange(StrictModel):
    """One change a rollback will make, as its pre-checks found it: what approvers approve.

    ``parameters`` is the rollback type's own data for carrying the change out; the spine never reads it.
    """

    target: str = Field(description="What changes, as the people who run it name it.")
    kind: str = Field(description="What sort of change, named by the rollback type (``<type area>.<action>``).")
    before: str = Field(description="What is in place now, e.g. v1.0.0.")
    after: str = Field(description="What will be in place after the rollback, e.g. v1.0.0-rc.5.")
    detail: str = Field(default="", description="Anything else approvers should see.")
    revert: str = Field(description="How to undo this change by hand if it must be reverted.")
    resource: str = Field(
        min_length=1,
        max_length=512,
        description="The identity of what changes, locked while the rollback runs (e.g. <system>/<scope>/<name>).",
    )
    skip: bool = Field(default=False, description="Already as wanted: nothing will be changed.")
    parameters: dict[str, JsonValue] = Field(default_factory=dict)


class RollbackPlan(StrictModel):
    """What the pre-checks of any rollback type produce."""

    changes: list[PlannedChange] = Field(min_length=1)
    feature_flag_options: list[str]
    summary: str
    warnings: list[Annotated[str, Field(max_length=600)]] = Field(
        default_factory=list,
        max_length=10,
        description="What approvers must know before deciding (data lost by a restore, a restore longer than the RTO).",
    )
    required_roles: list[Name] = Field(
        default_factory=list,
        max_length=5,
        description="Roles whose approval the findings add to the request's (a restore that breaks the RPO needs the "
        "authority of the data-corruption row).",
    )


ChangeStatus = Literal["applied", "skipped", "failed", "unconfirmed"]


class ChangeRecord(StrictModel):
    """What one change of a rollback did, as its execute step reports it (every type the same shape).

    ``failed``: the step raised (``detail`` says why; it may have changed nothing). ``unconfirmed``: the step
    started and its outcome was never recorded (the change may have reached the world).
    """

    target: str
    kind: str
    before: str
    after: str
    status: ChangeStatus
    detail: str
    revert: str
    started_at: datetime
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    data_loss_seconds: float | None = Field(
        default=None,
        ge=0,
        description="Writes this change left behind, measured (e.g. a database switched to a restored copy); "
        "unset: it loses no data.",
    )

    @classmethod
    def of(
        cls,
        change: PlannedChange,
        status: ChangeStatus,
        detail: str,
        at: datetime,
        parameters: dict[str, JsonValue] | None = None,
        data_loss_seconds: float | None = None,
    ) -> ChangeRecord:
        """The record of ``change`` (what approvers approved) as it ended."""
        return cls(
            target=change.target,
            kind=change.kind,
            before=change.before,
            after=change.after,
            status=status,
            detail=detail,
            revert=change.revert,
            started_at=at,
            parameters=parameters or {},
            data_loss_seconds=data_loss_seconds,
        )


class ChangeStepEvent(StrictModel):
    """The input of a step that carries out one approved change."""

    request: RollbackRequest
    approval_id: str
    change: PlannedChange


class LockLease(StrictModel):
    keys: list[str]
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


class HealthCheck(StrictModel):
    url: str
    status_code: int | None
    status: str | None
    healthy: bool
    detail: str


class MetricQuery(StrictModel):
    """One CloudWatch metric a recovered service must satisfy (runbook "Rollback Verification": error rate back
    under the baseline, p95 latency under 200 ms), over the last ``periods`` periods."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.%()/-]*$")
    namespace: str = Field(min_length=1, max_length=255)
    metric: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=30)
    stat: str = Field(default="Average", pattern=r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$")
    period_seconds: int = Field(default=60, ge=1, le=3600)
    periods: int = Field(default=3, ge=1, le=60)
    below: float = Field(description="Healthy while every datapoint is below this.")
    unit: str = Field(default="", max_length=16, description="For people: how the value reads, e.g. % or ms.")
    error_rate: bool = Field(
        default=False,
        description="The service's error rate: its peak over the incident window is the post-mortem's impact. When "
        "no query of a service says so, the first whose name or metric mentions error, fault or 5xx is.",
    )


class MetricCheck(StrictModel):
    name: str
    observed: float | None = Field(description="The worst datapoint of the window; None: no data yet.")
    threshold: float
    unit: str = ""
    healthy: bool
    detail: str


DEFAULT_LOGS_QUERY = "fields @timestamp, @message, @logStream | sort @timestamp asc | limit 10000"
LogGroupName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[.\-_/#A-Za-z0-9]+$")]


class IncidentLogs(StrictModel):
    """A service's logs kept with each rollback's record (runbook "Post-Rollback Actions": preserve logs for
    investigation): a CloudWatch Logs Insights query over its log groups for the incident window."""

    log_groups: list[LogGroupName] = Field(
        min_length=1, max_length=50, description="The log groups to query (StartQuery takes at most 50)."
    )
    query: str = Field(
        default=DEFAULT_LOGS_QUERY,
        min_length=1,
        max_length=10000,
        description="The Logs Insights query; Logs Insights returns at most 10,000 rows.",
    )


class SmokeTest(StrictModel):
    """The team's smoke tests for an environment, run as a CodeBuild build (runbook: ``npm run test:smoke``)."""

    project: str = Field(min_length=2, max_length=150, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    command: str = Field(
        default="npm run test:smoke -- --env=$ROLLBACK_ENVIRONMENT",
        min_length=1,
        max_length=1000,
        description="Run by the build (its buildspec's one command); $ROLLBACK_ENVIRONMENT is set.",
    )


class SmokeCheck(StrictModel):
    project: str
    build_id: str
    status: str = Field(description="CodeBuild's buildStatus: IN_PROGRESS, SUCCEEDED, FAILED, ...")
    logs: str | None = Field(default=None, description="Where the build's log is (CloudWatch Logs deep link).")
    healthy: bool
    detail: str


class HealthVerification(StrictModel):
    """Where verification stands: ``healthy`` once ``consecutive_healthy`` samples in a row were all healthy."""

    healthy: bool
    checks: list[HealthCheck]
    metrics: list[MetricCheck] = Field(default_factory=list)
    smoke: SmokeCheck | None = None
    attempt: int
    consecutive_healthy: int = 0
    first_attempt_at: datetime
    verified_at: datetime | None


class TimelineEntry(StrictModel):
    at: datetime
    event: str


class IncidentWindow(StrictModel):
    """From shortly before the incident was detected (the configured lead) to the end the record looks at."""

    start: datetime
    end: datetime


class MetricPeak(StrictModel):
    """The error rate's peak over the incident window (the post-mortem's impact), or why it is unknown."""

    name: str
    unit: str = ""
    window: IncidentWindow
    value: float | None = Field(default=None, description="The highest datapoint; None: unknown (see detail).")
    at: datetime | None = None
    detail: Annotated[str, Field(max_length=1200)]


class PreservedLogs(StrictModel):
    """The incident's logs as kept with the record (a Logs Insights query's results, as JSON), or why they could
    not be kept."""

    log_groups: list[str]
    window: IncidentWindow
    url: str | None = Field(default=None, description="s3://bucket/records/.../logs.json; None: not preserved.")
    query_id: str | None = None
    rows: int = Field(default=0, ge=0, description="Rows kept in the file.")
    truncated: bool = Field(default=False, description="Rows were left out to keep the file under its size cap.")
    detail: Annotated[str, Field(max_length=1200)]


class IncidentUpdate(StrictModel):
    """Whether the outcome, RTO, RPO and record were written onto the incident the alarm opened."""

    key: str
    updated: bool
    detail: Annotated[str, Field(max_length=1200)]


class RollbackReport(StrictModel):
    rollback_id: str
    rollback_type: str | None = None
    scenario: str
    severity: Severity
    status: Literal["SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "PLANNED", "ABORTED"]
    execution_arn: str
    service: str
    environment: str
    timeline: list[TimelineEntry]
    rto_seconds: float | None
    rto_target_seconds: int
    rto_met: bool | None
    rpo_seconds: float | None
    approvals: list[ApprovalRecord]
    changes: list[ChangeRecord]
    partial: bool = Field(default=False, description="It did not succeed, yet some changes reached the world.")
    announcements: list[dict[str, object]] = Field(default_factory=list)
    post_mortem_markdown: str
    record_url: str | None = Field(
        default=None, description="Where the record is kept (report, post-mortem draft, timeline): s3://bucket/prefix/"
    )
    error_rate_peak: MetricPeak | None = Field(
        default=None, description="The error rate's peak over the incident window; None: no error-rate metric."
    )
    logs: PreservedLogs | None = Field(
        default=None, description="The incident's logs kept with the record; None: no log groups configured."
    )
    incident: IncidentUpdate | None = Field(
        default=None, description="The incident item closed out with this report; None: not started by an alarm."
    )


class FailureInfo(StrictModel):
    """The ``$.error`` object a Catch puts in the state: ``{"Error": ..., "Cause": ...}``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: str = Field(alias="Error")
    cause: str = Field(default="", alias="Cause")

    @field_validator("cause")
    @classmethod
    def _bounded(cls, cause: str) -> str:
        return bounded(cause, 2000)
