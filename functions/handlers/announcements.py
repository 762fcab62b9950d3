"""Announce an approved rollback: war room (Slack), status page (Statuspage.io), support (SNS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel

from functions.adapters.announcers import SlackWebhook, Statuspage
from functions.adapters.audit import AuditLog
from functions.adapters.aws import client
from functions.adapters.notifier import SnsNotifier
from functions.errors import InvalidRollbackInput
from functions.logic.announcements import Announcement, announce, announce_recovery
from functions.models.rollback import RollbackPlan, RollbackRequest
from functions.observability import logger
from functions.settings import AnnouncementSettings, load_settings
from functions.steps import step


class Announced(BaseModel):
    announcements: list[Announcement]


class AnnounceEvent(BaseModel):
    """``started`` after the approval (with the plan); ``recovered`` once verified (with the changes made and the
    announcements of the start, whose status page incident it updates)."""

    request: RollbackRequest
    phase: Literal["started", "recovered"] = "started"
    plan: RollbackPlan | None = None
    changes: list[dict[str, Any]] = []
    started: dict[str, Any] = {}  # the start's result: {"announcements": [...]}, or its step's error


@step
def handler(event: AnnounceEvent) -> Announced:
    settings = load_settings(AnnouncementSettings)
    slack = (
        SlackWebhook(str(parameters.get_secret(settings.slack_webhook_secret_arn, max_age=300)))
        if settings.slack_webhook_secret_arn
        else None
    )
    statuspage = (
        Statuspage(
            settings.statuspage_api_base,
            settings.statuspage_page_id,
            str(parameters.get_secret(settings.statuspage_api_key_secret_arn, max_age=300)),
        )
        if settings.statuspage_page_id and settings.statuspage_api_key_secret_arn
        else None
    )
    notifier = SnsNotifier(client("sns"), settings.notifications_topic_arn)

    def tell_support(subject: str, message: str) -> None:
        notifier.publish(subject, message)

    audit = AuditLog(client("dynamodb"), settings.audit_table_name)

    def first_time(channel: str) -> bool:
        return audit.record_once(
            event.request.rollback_id,
            f"announcement#{channel}" if event.phase == "started" else f"announcement#{event.phase}#{channel}",
            "announcement",
            datetime.now(UTC),
            {"channel": channel, "phase": event.phase},
        )

    if event.phase == "recovered":
        opened = [a.get("reference") for a in event.started.get("announcements", []) if isinstance(a, dict)]
        opened = [reference for reference in opened if reference]
        now = datetime.now(UTC)
        results = announce_recovery(
            event.request,
            event.changes,
            max(0.0, (now - event.request.detected_at).total_seconds()),
            incident_id=opened[0] if opened else None,
            war_room=slack.post if slack else None,
            status_page=statuspage.update_incident if statuspage else None,
            first_time=first_time,
        )
    elif event.plan is None:
        raise InvalidRollbackInput("plan: the start of a rollback is announced with its plan")
    else:
        results = announce(
            event.request,
            event.plan,
            war_room=slack.post if slack else None,
            status_page=statuspage.open_incident if statuspage else None,
            support=tell_support,
            first_time=first_time,
        )
    for result in results:
        (logger.info if result.ok else logger.warning)("announcement", extra=result.model_dump())
    return Announced(announcements=results)
