"""EventBridge "CloudWatch Alarm State Change" -> start the rollback workflow (idempotent per incident)."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.adapters.aws import client
from functions.logic.intake import AlarmStateChange, IntakeRoute, decide
from functions.observability import logger, tracer
from functions.settings import EnvironmentVariables, state_machine_arns


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    alarm = AlarmStateChange.from_event(event)
    route = IntakeRoute.model_validate_json(os.environ.get(EnvironmentVariables.INTAKE_ROUTE.value) or "{}")
    decision = decide(alarm, route)
    if decision.action != "start" or decision.workflow is None:
        logger.info("alarm ignored", extra={"alarm": alarm.alarm_name, "state": alarm.state})
        return decision.model_dump(mode="json")
    sfn = client("stepfunctions")
    try:
        response = sfn.start_execution(
            stateMachineArn=state_machine_arns()[decision.workflow],
            name=decision.execution_name,
            input=json.dumps(decision.input),
        )
        execution_arn = response["executionArn"]
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("duplicate alarm event: execution already started", extra={"name": decision.execution_name})
        return {**decision.model_dump(mode="json"), "action": "duplicate"}
    logger.info("rollback proposed", extra={"alarm": alarm.alarm_name, "execution_arn": execution_arn})
    return {**decision.model_dump(mode="json"), "execution_arn": execution_arn}
