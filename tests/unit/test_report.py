"""The rollback record: timeline from the execution history, RTO against the 15-minute target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.logic.report import build_report, notification_text, timeline_from_history
from functions.models.rollback import ChangeRecord

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def entered(name: str, seconds: float, kind: str = "TaskStateEntered") -> dict[str, Any]:
    return {"type": kind, "timestamp": T0 + timedelta(seconds=seconds), "stateEnteredEventDetails": {"name": name}}


REQUEST = {
    "rollback_id": "exec-1",
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:sm:exec-1",
    "rollback_type": "kubernetes_app",
    "service": "skillancer",
    "environment": "production",
    "target": {"anything": "the type's own fields, opaque to the report"},
    "reason": "500s",
    "requested_by": "intake",
    "scenario": "Complete platform outage",
    "severity": "P0",
    "required_roles": ["on-call", "lead"],
    "health_urls": ["https://x/health"],
    "feature_flags": [],
    "started_at": at(0),
    "detected_at": at(-120),
    "alarm": {"name": "api-5xx", "state_change_time": at(-120)},
    "dry_run": False,
    "approval_window": {"timeout_seconds": 1800, "escalate_after_seconds": 450, "escalation_roles": ["cto"]},
}
APPROVAL = {
    "approval_id": "a1",
    "approvals": [
        {"approver_id": "ann", "name": "Ann", "role": "on-call", "decided_at": at(60)},
        {"approver_id": "bob", "name": "Bob", "role": "lead", "decided_at": at(90)},
    ],
}
CHANGE = {
    "target": "deployment/skillancer-web (namespace production)", "kind": "kubernetes.rollout-undo",
    "before": "v1.0.0", "after": "v1.0.0-rc.5", "status": "applied", "detail": "rolled back",
    "revert": "kubectl rollout undo deployment/skillancer-web -n production", "started_at": at(91),
}  # fmt: skip
SKIPPED = {**CHANGE, "target": "deployment/skillancer-api (namespace production)", "before": "v1.0.0-rc.5",
           "status": "skipped", "detail": "skipped rollback"}  # fmt: skip
VERIFIED = {"healthy": True, "checks": [], "attempt": 2, "first_attempt_at": at(150), "verified_at": at(180)}


def test_timeline_keeps_each_states_first_entry_in_order() -> None:
    history = [
        {"type": "ExecutionStarted", "timestamp": T0},
        entered("Validate input", 0),
        entered("Wait for rollout", 100, "WaitStateEntered"),
        entered("Check rollout status", 105),
        entered("Wait for rollout", 110, "WaitStateEntered"),
        entered("Rolled out?", 111, "ChoiceStateEntered"),
    ]
    assert [e.event for e in timeline_from_history(history)] == [
        "Rollback workflow started", "Validate input", "Wait for rollout", "Check rollout status",
    ]  # fmt: skip


def test_successful_report_measures_rto_from_detection_to_verified_health() -> None:
    state = {"request": REQUEST, "approval": APPROVAL, "verification": VERIFIED}
    changes = [ChangeRecord.model_validate(c) for c in (CHANGE, SKIPPED)]
    report = build_report(
        outcome="SUCCEEDED", execution_arn=REQUEST["execution_arn"], execution_name="exec-1", state=state,
        changes=changes, history=[], rto_target_seconds=900, now=T0 + timedelta(seconds=200),
    )  # fmt: skip
    assert report.rto_seconds == 300.0
    assert report.rto_met is True
    assert [(c.target, c.before, c.after, c.status) for c in report.changes] == [
        ("deployment/skillancer-web (namespace production)", "v1.0.0", "v1.0.0-rc.5", "applied"),
        ("deployment/skillancer-api (namespace production)", "v1.0.0-rc.5", "v1.0.0-rc.5", "skipped"),
    ]
    assert "- deployment/skillancer-web (namespace production): v1.0.0 -> v1.0.0-rc.5" in report.post_mortem_markdown
    assert (
        "- deployment/skillancer-api (namespace production): already at v1.0.0-rc.5 (nothing changed)"
        in report.post_mortem_markdown
    )
    assert [a.role for a in report.approvals] == ["on-call", "lead"]
    events = [e.event for e in report.timeline]
    assert events == [
        "Issue detected (alarm api-5xx)", "Approved by Ann (on-call)", "Approved by Bob (lead)",
        "Service restored (health verified)",
    ]  # fmt: skip
    assert "| 03:03:00 | Service restored (health verified) |" in report.post_mortem_markdown
    assert "**Severity:** P0" in report.post_mortem_markdown


def test_failed_report_without_a_valid_request_still_records_the_error() -> None:
    state = {"service": "?", "error": {"Error": "InvalidRollbackInput", "Cause": "deployments: Field required"}}
    report = build_report(
        outcome="FAILED", execution_arn="arn:x", execution_name="exec-2", state=state,
        changes=[], history=[], rto_target_seconds=900, now=T0,
    )  # fmt: skip
    assert report.status == "FAILED"
    assert report.rollback_id == "exec-2"
    assert report.rto_seconds is None and report.rto_met is None
    assert report.timeline[-1].event == "Ended: InvalidRollbackInput: deployments: Field required"


def test_rto_is_never_negative() -> None:
    # Given a detection time a little after the verified recovery (clocks a few seconds apart)
    request = {**REQUEST, "detected_at": at(200)}
    state = {"request": request, "approval": APPROVAL, "verification": VERIFIED}
    report = build_report(
        outcome="SUCCEEDED", execution_arn=REQUEST["execution_arn"], execution_name="exec-1", state=state,
        changes=[ChangeRecord.model_validate(CHANGE)], history=[], rto_target_seconds=900,
        now=T0 + timedelta(seconds=200),
    )  # fmt: skip
    # Then the RTO is zero, not negative
    assert report.rto_seconds == 0.0 and report.rto_met is True


def test_a_failed_rollback_that_moved_something_is_reported_as_partial() -> None:
    # Given a rollback that failed after one change was applied, one failed and one got no answer
    failed = {**SKIPPED, "target": "deployment/skillancer-worker", "status": "failed", "detail": "HTTP 409"}
    unknown = {**SKIPPED, "target": "deployment/skillancer-cron", "status": "unconfirmed", "detail": "started"}
    changes = [ChangeRecord.model_validate(c) for c in (CHANGE, failed, unknown)]
    error = {"Error": "PodsUnhealthy", "Cause": "x" * 50_000}
    report = build_report(
        outcome="FAILED", execution_arn=REQUEST["execution_arn"], execution_name="exec-1",
        state={"request": REQUEST, "approval": APPROVAL, "error": error}, changes=changes, history=[],
        rto_target_seconds=900, now=T0 + timedelta(seconds=200),
    )  # fmt: skip
    # Then it is partial, names what moved and what did not, and the 50 KB cause is bounded
    assert report.partial is True
    summary = (
        "PARTIAL rollback: changed deployment/skillancer-web (namespace production), deployment/skillancer-cron; "
        "not changed: deployment/skillancer-worker"
    )
    assert summary in report.post_mortem_markdown
    assert "deployment/skillancer-worker: v1.0.0-rc.5 -> v1.0.0-rc.5 FAILED: HTTP 409" in report.post_mortem_markdown
    assert "UNCONFIRMED (no answer; check it by hand)" in report.post_mortem_markdown
    assert len(report.model_dump_json()) < 20_000
    subject, text = notification_text(report)
    assert subject == "[P0] Rollback FAILED (PARTIAL): skillancer (production)"
    assert summary in text
