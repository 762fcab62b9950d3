"""The runbook's pre-rollback checklist, automated once the rollback is approved: alert the war room
("ROLLBACK INITIATED"), update the status page ("Investigating issues, remediation in progress"), ask support to
pause customer responses. A channel that fails is recorded, never a reason to delay the rollback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from functions.adapters.announcers import AnnouncementFailed
from functions.models.rollback import RollbackPlan, RollbackRequest

STATUS_PAGE_MESSAGE = "Investigating issues, remediation in progress"
INCIDENT_PREFIX = "incident "
IMPACT = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "minor"}


Channel = Literal["war_room", "status_page", "support"]


class Announcement(BaseModel):
    channel: Channel
    ok: bool
    detail: str
    reference: str | None = None  # what later announcements update (the status page's incident id)


def war_room_text(request: RollbackRequest, plan: RollbackPlan) -> str:
    changes = "; ".join(f"{change.target} {change.before} -> {change.after}" for change in plan.changes)
    return (
        f":rotating_light: ROLLBACK INITIATED: {request.service} ({request.environment}), {request.severity} "
        f"{request.scenario}. {changes}. Execution {request.rollback_id}."
    )


def announce(
    request: RollbackRequest,
    plan: RollbackPlan,
    *,
    war_room: Callable[[str], None] | None,
    status_page: Callable[[str, str, str], str] | None,
    support: Callable[[str, str], None],
    first_time: Callable[[Channel], bool] = lambda channel: True,
) -> list[Announcement]:
    """Announce on every configured channel; each channel's outcome is returned, none raises. A channel for
    which ``first_time`` says no was announced by an earlier run of the step: it is not announced again."""
    steps: list[tuple[Channel, Callable[[], str]]] = []
    if war_room is not None:
        text = war_room_text(request, plan)

        def post_to_war_room() -> str:
            war_room(text)
            return "ROLLBACK INITIATED posted"

        steps.append(("war_room", post_to_war_room))
    if status_page is not None:

        def open_status_page_incident() -> str:
            name = f"{request.service}: {STATUS_PAGE_MESSAGE}"
            return INCIDENT_PREFIX + status_page(name, STATUS_PAGE_MESSAGE, IMPACT[request.severity])

        steps.append(("status_page", open_status_page_incident))

    def ask_support_to_pause() -> str:
        support(
            f"[{request.severity}] Pause customer responses: {request.service} rollback in progress",
            f"A rollback of {request.service} ({request.environment}) is in progress ({request.scenario}). "
            "Please pause customer responses about it until the all-clear.",
        )
        return "support notified"

    steps.append(("support", ask_support_to_pause))
    return run_channels(steps, first_time)


def run_channels(
    steps: list[tuple[Channel, Callable[[], str]]], first_time: Callable[[Channel], bool]
) -> list[Announcement]:
    """Each channel once (``first_time`` says no for one announced by an earlier run of the step); a failed
    channel is recorded, none raises."""
    results = []
    for channel, step in steps:
        if not first_time(channel):
            results.append(Announcement(channel=channel, ok=True, detail="announced earlier; not repeated"))
            continue
        try:
            detail = step()
        except AnnouncementFailed as failure:
            results.append(Announcement(channel=channel, ok=False, detail=str(failure)))
            continue
        reference = detail.removeprefix(INCIDENT_PREFIX).split()[0] if detail.startswith(INCIDENT_PREFIX) else None
        results.append(Announcement(channel=channel, ok=True, detail=detail, reference=reference))
    return results


def recovery_text(request: RollbackRequest, changes: list[dict[str, Any]], rto_seconds: float | None) -> str:
    rolled_back = "; ".join(f"{c.get('target')}: {c.get('after')}" for c in changes if c.get("status") == "applied")
    rto = f" in {rto_seconds / 60:.1f} min (target 15)" if rto_seconds is not None else ""
    return (
        f"Rolled back and verified{rto}: {rolled_back or 'nothing needed changing'}. We are monitoring the "
        f"{request.service} service closely."
    )


def announce_recovery(
    request: RollbackRequest,
    changes: list[dict[str, Any]],
    rto_seconds: float | None,
    *,
    incident_id: str | None,
    war_room: Callable[[str], None] | None,
    status_page: Callable[[str, str, str], None] | None,
    first_time: Callable[[Channel], bool] = lambda channel: True,
) -> list[Announcement]:
    """Once verified (runbook "Post-Rollback Actions"): the status page incident opened at "Investigating" moves
    to "Monitoring" saying what was rolled back, and the war room hears the outcome and the RTO."""
    text = recovery_text(request, changes, rto_seconds)
    steps: list[tuple[Channel, Callable[[], str]]] = []
    if war_room is not None:

        def tell_war_room() -> str:
            war_room(f":white_check_mark: ROLLBACK VERIFIED: {request.service} ({request.environment}). {text}")
            return "ROLLBACK VERIFIED posted"

        steps.append(("war_room", tell_war_room))
    if status_page is not None and incident_id is not None:
        reference = incident_id

        def move_to_monitoring() -> str:
            status_page(reference, "monitoring", text)
            return f"{INCIDENT_PREFIX}{reference} monitoring"

        steps.append(("status_page", move_to_monitoring))
    return run_channels(steps, first_time)
