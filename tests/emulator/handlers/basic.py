"""Tiny Lambda handlers for the emulator's own tests (dispatched in-process by local/aws/patches.py)."""

from __future__ import annotations

import os
from typing import Any

import boto3


class FlakyError(Exception):
    pass


CALLS: dict[str, int] = {}


def echo_environment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"colour": os.environ.get("COLOUR"), "function": context.function_name, "event": event}


def fail_twice(event: dict[str, Any], context: Any) -> dict[str, Any]:
    key = event["key"]
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= 2:
        raise FlakyError(f"attempt {CALLS[key]} failed")
    return {"attempts": CALLS[key]}


def answer_own_token(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sends the task's outcome before returning: the race moto 5.2.5 loses without the heartbeat fix."""
    sfn = boto3.client("stepfunctions")
    if event.get("fail"):
        sfn.send_task_failure(taskToken=event["token"], error="Refused", cause="because the test said so")
    else:
        sfn.send_task_success(taskToken=event["token"], output='{"answered": true}')
    return {}


REMEMBERED: list[dict[str, Any]] = []


def remember(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Keeps every event it gets (asynchronous invocations and SNS deliveries have no caller to answer)."""
    REMEMBERED.append({"event": event, "function": context.function_name, "colour": os.environ.get("COLOUR")})
    return {}


def unmarshallable(event: dict[str, Any], context: Any) -> Any:
    return {"a set": {1, 2}}
