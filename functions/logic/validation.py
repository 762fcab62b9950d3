"""Turn a raw workflow input into a validated request, or fail naming the offending field."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from functions.errors import InvalidRollbackInput
from functions.logic import approval_policy
from functions.models.rollback import ApprovalWindow, RollbackRequest
from functions.rollbacks.contract import RollbackType
from functions.settings import Approver

CLOCK_SKEW = timedelta(minutes=5)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_INPUT_BYTES = 64 * 1024


def describe_validation_error(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "input"
        problems.append(f"{field}: {detail['msg']}")
    return "; ".join(problems)


def health_url_allowed(url: str, configured: dict[str, list[str]]) -> bool:
    """https on a host the configuration already probes (http only on loopback, where the emulators listen):
    an input cannot make the verifier call an arbitrary address (say, the instance metadata endpoint)."""
    parts = urlsplit(url)
    hosts = {urlsplit(known).hostname for urls in configured.values() for known in urls}
    if parts.hostname not in hosts or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def validate_input(
    raw: Any,
    *,
    rollback_type: RollbackType,
    execution_arn: str,
    execution_name: str,
    started_at: datetime,
    configured_health_urls: dict[str, list[str]],
    approvers: Sequence[Approver],
    approval_window: ApprovalWindow,
) -> RollbackRequest:
    """``raw`` as a request of ``rollback_type`` (the workflow's own type; an input naming another is refused)."""
    if not isinstance(raw, dict):
        raise InvalidRollbackInput(f"input: expected a JSON object, got {type(raw).__name__}")
    size = len(json.dumps(raw))
    if size > MAX_INPUT_BYTES:
        raise InvalidRollbackInput(f"input: {size} bytes; at most {MAX_INPUT_BYTES} are accepted")
    named = raw.get("rollback_type", rollback_type.name)
    if named != rollback_type.name:
        raise InvalidRollbackInput(f"rollback_type: this workflow rolls back {rollback_type.name}, not {named!r}")
    try:
        parsed = rollback_type.parse_input(raw)
    except ValidationError as exc:
        raise InvalidRollbackInput(f"invalid rollback input: {describe_validation_error(exc)}") from None
    if parsed.detected_at is not None and parsed.detected_at > started_at + CLOCK_SKEW:
        raise InvalidRollbackInput(
            f"detected_at: {parsed.detected_at.isoformat()} is in the future (the rollback started at "
            f"{started_at.isoformat()})"
        )
    requested_urls = [str(url) for url in parsed.health_urls or []]
    refused = [url for url in requested_urls if not health_url_allowed(url, configured_health_urls)]
    if refused:
        raise InvalidRollbackInput(
            "health_urls: only https endpoints on the configured health hosts are probed; refused: "
            + ", ".join(refused)
        )
    health_urls = requested_urls or configured_health_urls.get(parsed.service, [])
    if not health_urls:
        raise InvalidRollbackInput(
            f"health_urls: none given and none configured for service {parsed.service!r}; "
            "verification needs at least one endpoint"
        )
    uncovered = approval_policy.uncovered_roles(approvers, parsed.required_roles, parsed.requested_by)
    if uncovered:
        raise InvalidRollbackInput(
            "required_roles: no configured approver other than the requester holds " + ", ".join(uncovered)
        )
    target = getattr(parsed, "target")  # noqa: B009 - the type's own model, added by RollbackType.input_model
    detected_at = parsed.detected_at or (parsed.alarm.state_change_time if parsed.alarm else started_at)
    return RollbackRequest(
        rollback_id=execution_name,
        execution_arn=execution_arn,
        rollback_type=rollback_type.name,
        service=parsed.service,
        environment=parsed.environment,
        target=target.model_dump(mode="json", exclude_none=True),
        reason=parsed.reason,
        requested_by=parsed.requested_by,
        scenario=parsed.scenario,
        severity=parsed.severity,
        required_roles=parsed.required_roles,
        health_urls=health_urls,
        feature_flags=parsed.feature_flags,
        started_at=started_at,
        detected_at=detected_at,
        alarm=parsed.alarm,
        dry_run=parsed.dry_run,
        approval_window=escalation_from_the_incident(approval_window, detected_at, started_at),
    )


def escalation_from_the_incident(window: ApprovalWindow, detected_at: datetime, started_at: datetime) -> ApprovalWindow:
    """The RTO clock runs from the incident, not from the request: time already spent before the rollback started
    comes off the wait before escalating, and when the escalation point has passed the next tier is told at once
    (one second after the request, the shortest wait the workflow can express)."""
    spent = max(0, int((started_at - detected_at).total_seconds()))
    if spent == 0:
        return window
    escalate_after = max(1, window.escalate_after_seconds - spent)
    return ApprovalWindow(
        timeout_seconds=window.timeout_seconds,
        escalate_after_seconds=escalate_after,
        escalation_roles=window.escalation_roles,
    )
