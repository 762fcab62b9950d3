"""A validated :class:`RollbackRequest`, as the validation step hands it to a type's steps, for tests that call a
slice's logic directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.models.rollback import RollbackRequest


def rollback_request(
    rollback_type: str,
    target: dict[str, Any],
    *,
    now: datetime,
    detected_at: datetime | None = None,
    rollback_id: str = "exec-1",
    reason: str = "production is broken",
    scenario: str = "Complete platform outage",
    severity: str = "P1",
) -> RollbackRequest:
    return RollbackRequest.model_validate(
        {
            "rollback_id": rollback_id,
            "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:sm:{rollback_id}",
            "rollback_type": rollback_type,
            "service": "skillancer",
            "environment": "production",
            "target": target,
            "reason": reason,
            "requested_by": "sre@skillancer.com",
            "scenario": scenario,
            "severity": severity,
            "required_roles": ["on-call", "lead"],
            "health_urls": [],
            "feature_flags": [],
            "started_at": now,
            "detected_at": detected_at or now,
            "alarm": None,
            "dry_run": False,
            "approval_window": {"timeout_seconds": 1800, "escalate_after_seconds": 450, "escalation_roles": ["cto"]},
        }
    )
