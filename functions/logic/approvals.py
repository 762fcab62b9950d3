"""Approval requests and decisions.

``request_approval`` stores the task token server-side and emails each eligible approver a signed link, one
message each through SES; what became of each email is recorded with the request, so a step run again sends only
what was not sent yet.
``decide`` records one decision (conditional write) and, once the policy's quorum is met or anyone rejects,
calls Step Functions back exactly once.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from functions.adapters.approvals_store import ApprovalRequestRecord, ApprovalStore, EmailDelivery, StoredDecision
from functions.adapters.audit import AuditLog
from functions.adapters.mailer import EmailMessage, EmailRefused, EmailSender
from functions.errors import ApprovalMissing, ApprovalRejected, ApprovalUndeliverable, InvalidRollbackInput
from functions.logic import approval_email, approval_policy, links
from functions.models.rollback import ApprovalOutcome, ApprovalRecord, RollbackPlan, RollbackRequest
from functions.settings import ApprovalSettings, Approver, EnvironmentVariables, SettingsError


class TaskCallbacks(Protocol):
    def send_task_success(self, *, taskToken: str, output: str) -> Any: ...  # noqa: N803
    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> Any: ...  # noqa: N803


class ApprovalRefused(Exception):
    """A decision that must not count; the message is safe to show on the page."""


def change_summary(request: RollbackRequest, plan: RollbackPlan) -> dict[str, Any]:
    """What the approvers see (page and email), kept with the request: the plan's changes, nothing else."""
    return {
        "rollback_type": request.rollback_type,
        "service": request.service,
        "environment": request.environment,
        "scenario": request.scenario,
        "severity": request.severity,
        "requested_by": request.requested_by,
        "reason": request.reason,
        "alarm": request.alarm.name if request.alarm else None,
        "changes": [change.model_dump(mode="json", exclude={"parameters"}) for change in plan.changes],
        "feature_flag_options": plan.feature_flag_options,
        "warnings": plan.warnings,
    }


def required_roles(request: RollbackRequest, plan: RollbackPlan) -> list[str]:
    """The request's roles, then those the pre-checks' findings add (each once, in that order)."""
    return list(dict.fromkeys([*request.required_roles, *plan.required_roles]))


def one_line(text: object, limit: int = 300) -> str:
    """User-supplied text as one line of plain text: no line breaks (a reason cannot add lines such as a fake
    "Review and decide" link above the real one), no control characters, bounded."""
    flat = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def email_body(summary: dict[str, Any], approver: Approver, url: str, expires: datetime) -> str:
    lines = [
        f"Hello {approver.name},",
        "",
        f"A {summary['severity']} rollback of {summary['service']} in {summary['environment']} needs your approval.",
        f"Scenario: {one_line(summary['scenario'])}",
        f"Requested by: {one_line(summary['requested_by'])}",
        f"Reason: {one_line(summary['reason'], limit=600)}",
    ]
    if summary.get("alarm"):
        lines.append(f"Alarm: {one_line(summary['alarm'])}")
    if summary.get("warnings"):
        lines += ["", "Before you decide:"] + [f"  ! {one_line(w, limit=600)}" for w in summary["warnings"]]
    lines += ["", "What will change:"]
    lines += [
        f"  - {one_line(c['target'])}: {one_line(c['before'])} -> {one_line(c['after'])}"
        + (" (already there)" if c["skip"] else "")
        for c in summary["changes"]
    ]
    if summary.get("feature_flag_options"):
        lines += ["", "A feature flag might fix this instead: " + one_line(", ".join(summary["feature_flag_options"]))]
    lines += [
        "",
        f"Review and decide (link valid until {expires.isoformat(timespec='minutes')}, for you only):",
        url,
    ]
    return "\n".join(lines)


def require_granted_approval(store: ApprovalStore, approval_id: str, request: RollbackRequest) -> None:
    """Before changing anything: the approval record exists, belongs to this rollback and was granted."""
    record = store.get(approval_id)
    if record is None or record.rollback_id != request.rollback_id or approval_id != approval_id_for(request):
        raise ApprovalMissing(f"no approval request {approval_id} for rollback {request.rollback_id}")
    if record.status != "APPROVED":
        raise ApprovalMissing(f"approval {approval_id} of rollback {request.rollback_id} is {record.status}")


def approval_id_for(request: RollbackRequest) -> str:
    """One approval request per rollback, derived from its execution so the escalation step finds it again."""
    return approval_id_for_execution(request.execution_arn)


def approval_id_for_execution(execution_arn: str) -> str:
    return hashlib.sha256(execution_arn.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ApprovalRequested:
    approval_id: str
    notified: list[str]
    expires_at: int


def request_approval(
    *,
    request: RollbackRequest,
    plan: RollbackPlan,
    task_token: str,
    settings: ApprovalSettings,
    key: bytes,
    store: ApprovalStore,
    mailer: EmailSender,
    callbacks: TaskCallbacks,
    audit: AuditLog,
    now: datetime,
) -> ApprovalRequested:
    roles = required_roles(request, plan)
    uncovered = approval_policy.uncovered_roles(settings.approvers, roles, request.requested_by)
    if uncovered:
        raise InvalidRollbackInput(
            "required_roles: no configured approver other than the requester holds " + ", ".join(uncovered)
        )
    if settings.base_url is None:
        raise SettingsError(f"{EnvironmentVariables.APPROVAL_BASE_URL.value} is not set")
    approvers = approval_policy.eligible_approvers(settings.approvers, roles, request.requested_by)
    approval_id = approval_id_for(request)
    expires = int(now.timestamp()) + settings.link_ttl_seconds
    nonces = {approver.id: secrets.token_urlsafe(16) for approver in approvers}
    summary = change_summary(request, plan)
    record = store.get(approval_id)
    if record is not None:
        # Run again (a retry): the callback moves to this attempt, and only the links not sent yet are sent.
        if not store.replace_task_token(approval_id, task_token):  # decided meanwhile: answer this attempt
            decided = store.get(approval_id) or record
            call_back(decided.model_copy(update={"task_token": task_token}), settings, callbacks)
            return ApprovalRequested(approval_id=approval_id, notified=[], expires_at=record.expires_at)
    else:
        record = ApprovalRequestRecord(
            approval_id=approval_id,
            rollback_id=request.rollback_id,
            status="PENDING",
            task_token=task_token,
            requested_by=request.requested_by,
            required_roles=roles,
            nonces=nonces,
            summary=summary,
            created_at=now,
            expires_at=expires,
        )
        store.create(record)
    # The links of the stored request (a retry rebuilds exactly the links of the attempt before)
    linked = [approver for approver in settings.approvers if approver.id in record.nonces]
    expires_at = datetime.fromtimestamp(record.expires_at, tz=now.tzinfo)
    sent_now: list[str] = []
    for approver in linked:
        claims = links.LinkClaims(approval_id, approver.id, record.expires_at, record.nonces[approver.id])
        url = links.build_url(str(settings.base_url), key, claims)
        message = approval_email.compose(
            f"[{request.severity}] Approve rollback of {request.service} ({request.environment})?",
            email_body(record.summary, approver, url, expires_at),
            link=url,
        )
        if _email_once(store, record, "request", approver, message, mailer, now):
            sent_now.append(approver.id)
    deliveries = (store.get(approval_id) or record).emails
    reached = [a for a in linked if _delivered(deliveries, "request", a)]
    refused = {a.id: d.error for a in linked if (d := deliveries.get(f"request:{a.id}")) and d.status == "rejected"}
    audit.record_once(
        request.rollback_id,
        f"approval-requested#{approval_id}",
        "approval requested",
        now,
        {
            "approval_id": approval_id,
            "required_roles": record.required_roles,
            "notified": [a.id for a in reached],
            **({"undelivered": refused} if refused else {}),
        },
    )
    if refused and not _can_reach_quorum(reached, record.required_roles):
        store.mark_ended(approval_id)  # the links that did go out now say the rollback ended; nothing can approve
        raise ApprovalUndeliverable(
            "the approval emails that were delivered cannot make the quorum of "
            + ", ".join(record.required_roles)
            + "; refused: "
            + "; ".join(f"{who} ({why})" for who, why in refused.items())
        )
    return ApprovalRequested(approval_id=approval_id, notified=sent_now, expires_at=record.expires_at)


def _email_once(
    store: ApprovalStore,
    record: ApprovalRequestRecord,
    purpose: str,
    person: Approver,
    message: EmailMessage,
    mailer: EmailSender,
    now: datetime,
) -> bool:
    """Send ``message`` to ``person`` unless the request records it as sent (or refused) already; True if sent now.
    The outcome is recorded after the send: a step that fails in between sends that one email again, the same link.
    A transient failure propagates (the workflow retries the step, which sends what is left)."""
    key = f"{purpose}:{person.id}"
    if key in record.emails:
        return False
    try:
        delivery = EmailDelivery(status="sent", at=now, message_id=mailer.send(person.email, message))
    except EmailRefused as refused:
        delivery = EmailDelivery(status="rejected", at=now, error=one_line(refused, limit=300))
    store.record_email(record.approval_id, key, delivery)
    return delivery.status == "sent"


def _delivered(deliveries: dict[str, EmailDelivery], purpose: str, person: Approver) -> bool:
    delivery = deliveries.get(f"{purpose}:{person.id}")
    return delivery is not None and delivery.status == "sent"


def _can_reach_quorum(reached: list[Approver], required_roles: list[str]) -> bool:
    """Whether the approvers who got their link could, all approving, fill every required role."""
    everyone_approves = [approval_policy.Decision(a.id, "approve") for a in reached]
    return approval_policy.evaluate(reached, required_roles, everyone_approves).status == "approved"


@dataclass(frozen=True)
class PageContext:
    record: ApprovalRequestRecord
    approver: Approver
    claims: links.LinkClaims


def open_link(
    *,
    approval_id: str,
    params: dict[str, str],
    settings: ApprovalSettings,
    key: bytes,
    store: ApprovalStore,
    now: datetime,
) -> PageContext:
    """Check a link's signature, expiry and binding; return what the page shows. Raises ApprovalRefused."""
    try:
        claims = links.LinkClaims(approval_id, params["a"], int(params["e"]), params["n"])
        links.verify(key, claims, params["s"], now.timestamp())
    except (KeyError, ValueError) as exc:
        raise ApprovalRefused("this link is incomplete or malformed") from exc
    except links.InvalidLink as exc:
        raise ApprovalRefused(str(exc)) from exc
    record = store.get(approval_id)
    if record is None or record.nonces.get(claims.approver_id) != claims.nonce:
        raise ApprovalRefused("this link is not valid")
    approver = next((a for a in settings.approvers if a.id == claims.approver_id), None)
    if approver is None:
        raise ApprovalRefused("you are no longer an approver")
    return PageContext(record=record, approver=approver, claims=claims)


DecisionKind = Literal["approve", "reject"]


def decide(
    *,
    page: PageContext,
    decision: DecisionKind,
    comment: str | None,
    source_ip: str | None,
    user_agent: str | None,
    settings: ApprovalSettings,
    store: ApprovalStore,
    callbacks: TaskCallbacks,
    audit: AuditLog,
    now: datetime,
) -> str:
    """Record a decision; returns the message for the page. Raises ApprovalRefused when it does not count."""
    record, approver = page.record, page.approver
    if record.status == "ENDED":
        raise ApprovalRefused("this rollback already ended; nothing was approved")
    if record.status != "PENDING":
        raise ApprovalRefused(f"this rollback was already {record.status.lower()}; nothing was changed")
    if approval_policy.is_requester(approver, record.requested_by):
        raise ApprovalRefused("you requested this rollback, so you cannot approve it")
    if not set(approver.roles) & set(record.required_roles):
        raise ApprovalRefused("none of your roles is required for this rollback")
    stored = StoredDecision(
        approver_id=approver.id,
        decision=decision,
        decided_at=now,
        source_ip=source_ip,
        user_agent=user_agent,
        comment=comment or None,
    )
    if not store.add_decision(record.approval_id, stored):
        raise ApprovalRefused("your decision was already recorded, or the request is closed; nothing was changed")
    audit.record(record.rollback_id, f"approval {decision}d", now, {"approver": approver.id, "ip": source_ip})
    # Decide from what is stored now, after our write: two approvers deciding at the same moment each see the
    # other's decision here (or the later one does), so a met quorum is never left unclosed.
    current = store.get(record.approval_id) or record.model_copy(update={"decisions": {approver.id: stored}})
    quorum = _quorum(current, settings)
    if quorum.status == "pending":
        # No heartbeat: a partial approval must not postpone the escalation to the next tier.
        return "Approval recorded. Still waiting for: " + ", ".join(quorum.missing_roles) + "."
    close_if_decided(current, settings, store, callbacks)
    return (
        "Approved. The rollback is starting." if quorum.status == "approved" else "Rejected. The rollback will not run."
    )


def close_if_decided(
    record: ApprovalRequestRecord, settings: ApprovalSettings, store: ApprovalStore, callbacks: TaskCallbacks
) -> bool:
    """Close a request whose stored decisions reach a verdict, and call the workflow back: exactly once, since
    only the caller whose conditional close wins calls back (with the task token current at that moment)."""
    quorum = _quorum(record, settings)
    if quorum.status == "pending":
        return False
    if store.close(record.approval_id, "APPROVED" if quorum.status == "approved" else "REJECTED"):
        current = store.get(record.approval_id) or record
        call_back(current, settings, callbacks)
    return True


def call_back(record: ApprovalRequestRecord, settings: ApprovalSettings, callbacks: TaskCallbacks) -> None:
    """Tell the workflow how a closed request ended: the approvals as output, or the rejection as an error."""
    quorum = _quorum(record, settings)
    if quorum.status == "rejected":
        rejecter = record.decisions[quorum.rejected_by[0]]
        name = next((a.name for a in settings.approvers if a.id == rejecter.approver_id), rejecter.approver_id)
        callbacks.send_task_failure(
            taskToken=record.task_token,
            error=ApprovalRejected.__name__,
            cause=f"rejected by {name}" + (f": {rejecter.comment}" if rejecter.comment else ""),
        )
        return
    outcome = ApprovalOutcome(
        approval_id=record.approval_id,
        approvals=[_approval_record(settings, role, record.decisions[pid]) for role, pid in quorum.assignment.items()],
    )
    callbacks.send_task_success(taskToken=record.task_token, output=json.dumps(outcome.model_dump(mode="json")))


def _quorum(record: ApprovalRequestRecord, settings: ApprovalSettings) -> approval_policy.QuorumState:
    return approval_policy.evaluate(
        settings.approvers,
        record.required_roles,
        [approval_policy.Decision(d.approver_id, d.decision) for d in record.decisions.values()],
    )


def escalate(
    *,
    request: RollbackRequest,
    task_token: str,
    settings: ApprovalSettings,
    store: ApprovalStore,
    mailer: EmailSender,
    callbacks: TaskCallbacks,
    audit: AuditLog,
    now: datetime,
) -> list[str]:
    """No quorum in time: the request now waits on ``task_token``, and the next tier is told. Returns who."""
    approval_id = approval_id_for(request)
    if not store.replace_task_token(approval_id, task_token):
        # Decided in the moment between the first wait ending and this step: finish with that decision.
        record = store.get(approval_id)
        if record is None:
            raise LookupError(f"approval request {approval_id} of {request.rollback_id} is missing")
        call_back(record.model_copy(update={"task_token": task_token}), settings, callbacks)
        return []
    record = store.get(approval_id)
    assert record is not None
    if close_if_decided(record, settings, store, callbacks):
        return []
    quorum = _quorum(record, settings)
    waited = int((now - record.created_at).total_seconds() // 60)
    tier = [
        a
        for a in settings.approvers
        if set(a.roles) & set(request.approval_window.escalation_roles)
        and not approval_policy.is_requester(a, request.requested_by)
    ]
    decided = ", ".join(sorted(record.decisions)) or "nobody yet"
    for person in tier:
        message = approval_email.compose(
            f"[{request.severity}] ESCALATION: rollback of {request.service} ({request.environment}) "
            f"waiting {waited} min for approval",
            "\n".join(
                [
                    f"Hello {person.name},",
                    "",
                    f"The {request.severity} rollback of {request.service} in {request.environment} has waited "
                    f"{waited} minutes without the approvals it needs "
                    f"(approval window: {request.approval_window.timeout_seconds // 60} minutes).",
                    f"Still missing: {', '.join(quorum.missing_roles)}. Decided so far: {decided}.",
                    f"Scenario: {one_line(request.scenario)}. Requested by {one_line(request.requested_by)}: "
                    f"{one_line(request.reason, limit=600)}",
                    "Please reach the approvers for the missing roles.",
                ]
            ),
        )
        _email_once(store, record, "escalation", person, message, mailer, now)
    deliveries = (store.get(approval_id) or record).emails
    notified = [person.id for person in tier if _delivered(deliveries, "escalation", person)]
    refused = {p.id: d.error for p in tier if (d := deliveries.get(f"escalation:{p.id}")) and d.status == "rejected"}
    audit.record(
        request.rollback_id,
        "approval escalated",
        now,
        {"notified": notified, "missing": quorum.missing_roles, **({"undelivered": refused} if refused else {})},
    )
    return notified


def _approval_record(settings: ApprovalSettings, role: str, decision: StoredDecision) -> ApprovalRecord:
    approver = next(a for a in settings.approvers if a.id == decision.approver_id)
    return ApprovalRecord(
        approver_id=approver.id,
        name=approver.name,
        role=role,
        decided_at=decision.decided_at,
        source_ip=decision.source_ip,
        user_agent=decision.user_agent,
        comment=decision.comment,
    )
