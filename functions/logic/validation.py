"""Turn a raw workflow input into a validated request, or fail naming the offending field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from functions.errors import InvalidRollbackInput
from functions.logic import approval_policy
from functions.models.rollback import ApprovalWindow, KubernetesAppRollbackInput, RollbackRequest
from functions.settings import Approver


def describe_validation_error(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "input"
        problems.append(f"{field}: {detail['msg']}")
    return "; ".join(problems)


def validate_kubernetes_app_input(
    raw: Any,
    *,
    execution_arn: str,
    execution_name: str,
    started_at: datetime,
    configured_health_urls: dict[str, list[str]],
    approvers: Sequence[Approver],
    approval_window: ApprovalWindow,
) -> RollbackRequest:
    if not isinstance(raw, dict):
        raise InvalidRollbackInput("input: expected a JSON object")
    try:
        parsed = KubernetesAppRollbackInput.model_validate(raw)
    except ValidationError as exc:
        raise InvalidRollbackInput(f"invalid rollback input: {describe_validation_error(exc)}") from None
    health_urls = [str(url) for url in parsed.health_urls or []] or configured_health_urls.get(parsed.service, [])
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
    return RollbackRequest(
        rollback_id=execution_name,
        execution_arn=execution_arn,
        service=parsed.service,
        environment=parsed.environment,
        namespace=parsed.namespace or parsed.environment,
        deployments=parsed.deployments,
        to_revision=parsed.to_revision,
        to_version=parsed.to_version,
        reason=parsed.reason,
        requested_by=parsed.requested_by,
        scenario=parsed.scenario,
        severity=parsed.severity,
        required_roles=parsed.required_roles,
        health_urls=health_urls,
        feature_flags=parsed.feature_flags,
        started_at=started_at,
        detected_at=parsed.detected_at or (parsed.alarm.state_change_time if parsed.alarm else started_at),
        alarm=parsed.alarm,
        dry_run=parsed.dry_run,
        approval_window=approval_window,
    )
