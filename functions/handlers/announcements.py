"""Announce an approved rollback: war room (Slack), status page (Statuspage.io), support (SNS)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.adapters.announcers import SlackWebhook, Statuspage
from functions.adapters.aws import client
from functions.adapters.notifier import SnsNotifier
from functions.logic.announcements import announce
from functions.models.rollback import PreCheckResult, RollbackRequest
from functions.observability import logger, tracer
from functions.settings import AnnouncementSettings, notifications_topic_arn


class AnnounceEvent(BaseModel):
    request: RollbackRequest
    checks: PreCheckResult


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = AnnounceEvent.model_validate(event)
    settings = AnnouncementSettings.from_env()
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
    notifier = SnsNotifier(client("sns"), notifications_topic_arn())

    def tell_support(subject: str, message: str) -> None:
        notifier.publish(subject, message)

    results = announce(
        parsed.request,
        parsed.checks,
        war_room=slack.post if slack else None,
        status_page=statuspage.open_incident if statuspage else None,
        support=tell_support,
    )
    for result in results:
        (logger.info if result.ok else logger.warning)("announcement", extra=result.model_dump())
    return {"announcements": [r.model_dump() for r in results]}
