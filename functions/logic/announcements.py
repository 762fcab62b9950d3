"""The runbook's pre-rollback checklist, automated once the rollback is approved: alert the war room
("ROLLBACK INITIATED"), update the status page ("Investigating issues, remediation in progress"), ask support to
pause customer responses. A channel that fails is recorded, never a reason to delay the rollback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from functions.adapters.announcers import AnnouncementFailed
from functions.models.rollback import RollbackPlan, RollbackRequest

STATUS_PAGE_MESSAGE = "Investigating issues, remediation in progress"
IMPACT = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "minor"}


Channel = Literal["war_room", "status_page", "support"]


class Announcement(BaseModel):
    channel: Channel
    ok: bool
    detail: str


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
            return "incident " + status_page(name, STATUS_PAGE_MESSAGE, IMPACT[request.severity])

        steps.append(("status_page", open_status_page_incident))

    def ask_support_to_pause() -> str:
        support(
            f"[{request.severity}] Pause customer responses: {request.service} rollback in progress",
            f"A rollback of {request.service} ({request.environment}) is in progress ({request.scenario}). "
            "Please pause customer responses about it until the all-clear.",
        )
        return "support notified"

    steps.append(("support", ask_support_to_pause))
    results = []
    for channel, step in steps:
        if not first_time(channel):
            results.append(Announcement(channel=channel, ok=True, detail="announced earlier; not repeated"))
            continue
        try:
            results.append(Announcement(channel=channel, ok=True, detail=step()))
        except AnnouncementFailed as failure:
            results.append(Announcement(channel=channel, ok=False, detail=str(failure)))
    return results
