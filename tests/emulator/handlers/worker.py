"""Worker function of the emulator test stack: flaky steps, Map items and failure records in DynamoDB."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3


class TransientGlitch(Exception):
    """Retried by the workflow (``Retry`` on this class name)."""


class PermanentProblem(Exception):
    """Not retried: caught by the workflow's ``Catch``."""


def _table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = event.get("action")
    if action == "flaky":
        return flaky(event)
    if action == "record":
        return record(event, context)
    if action == "record_failure":
        return record_failure(event)
    if action == "explode":
        raise PermanentProblem(f"run {event['run_id']} cannot go on")
    if action == "probe":
        return probe(event, context)
    if action == "sleep":
        time.sleep(float(event.get("seconds", 0.05)))
        return {"slept": True}
    raise ValueError(f"unknown action {action!r}")


def flaky(event: dict[str, Any]) -> dict[str, Any]:
    """Fails with TransientGlitch ``failures`` times per run, then succeeds; the attempts live in DynamoDB."""
    attempts = int(
        _table().update_item(
            Key={"pk": event["run_id"], "sk": "attempts"},
            UpdateExpression="ADD attempts :one",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )["Attributes"]["attempts"]
    )
    if attempts <= int(event.get("failures", 0)):
        raise TransientGlitch(f"attempt {attempts} glitched")
    return {"attempts": attempts}


def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = {"pk": event["run_id"], "sk": f"item#{event['item']}", "by": context.function_name}
    _table().put_item(Item=item)
    return {"item": event["item"], "stored": True}


def record_failure(event: dict[str, Any]) -> dict[str, Any]:
    error = event["error"]
    _table().put_item(
        Item={"pk": event["run_id"], "sk": "failure", "error": error.get("Error"), "cause": error.get("Cause")}
    )
    return {}


def probe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    names = event.get("names", [])
    return {
        "env": {name: os.environ.get(name) for name in names},
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
