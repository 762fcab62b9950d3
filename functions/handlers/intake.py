"""EventBridge "CloudWatch Alarm State Change" -> the decision matrix -> a rollback proposal, a fix-forward
notice, or an alarm attached to the open incident."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.aws import client
from functions.adapters.incidents import IncidentStore
from functions.adapters.notifier import SnsNotifier
from functions.logic.decision_matrix import load_matrix
from functions.logic.intake import AlarmStateChange, handle_alarm
from functions.observability import logger, tracer
from functions.settings import IntakeSettings, load_settings


@lru_cache(maxsize=256)
def _alarm_tags(alarm_arn: str) -> dict[str, str]:
    try:
        tags = client("cloudwatch").list_tags_for_resource(ResourceARN=alarm_arn).get("Tags", [])
    except client("cloudwatch").exceptions.ResourceNotFoundException:
        return {}
    return {tag["Key"]: tag["Value"] for tag in tags}


def _start(workflow: str, name: str, payload: dict[str, Any]) -> str | None:
    arn = load_settings(IntakeSettings).state_machine_arns.get(workflow)
    if arn is None:
        return None
    sfn = client("stepfunctions")
    try:
        return str(sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])
    except sfn.exceptions.ExecutionAlreadyExists:
        # Already started (and possibly finished) for this incident: the same execution, not a new one.
        return f"{arn.replace(':stateMachine:', ':execution:')}:{name}"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alarm = AlarmStateChange.from_event(event)
    settings = load_settings(IntakeSettings)
    notifier = SnsNotifier(client("sns"), settings.notifications_topic_arn)

    def notify(subject: str, message: str) -> None:
        notifier.publish(subject, message)

    outcomes = handle_alarm(
        alarm,
        _alarm_tags(alarm.alarm_arn) if alarm.enters_alarm else {},
        matrix=load_matrix(),
        incidents=IncidentStore(client("dynamodb"), settings.incidents_table_name),
        start=_start,
        notify=notify,
        now=datetime.now(UTC),
    )
    for outcome in outcomes:
        logger.info("alarm handled", extra={"alarm": alarm.alarm_name, **outcome.model_dump(exclude={"input"})})
    return {"alarm": alarm.alarm_name, "outcomes": [o.model_dump(mode="json") for o in outcomes]}
