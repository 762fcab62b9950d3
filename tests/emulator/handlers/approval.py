"""Approval function of the emulator test stack: keeps the task token in DynamoDB and announces it on SNS.

With ``answer`` in the event it instead answers its own token before returning: the heartbeat race of
moto 5.2.5 (the outcome arrives while the ``.waitForTaskToken`` Lambda still runs).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "probe":
        return {"env": {name: os.environ.get(name) for name in event["names"]}, "function_name": context.function_name}
    token = event["token"]
    if "answer" in event:
        sfn = boto3.client("stepfunctions")
        if event["answer"] == "success":
            sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": "itself"}))
        else:
            sfn.send_task_failure(taskToken=token, error="Rejected", cause="answered by itself")
        return {"answered": event["answer"]}
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).put_item(
        Item={"pk": event["run_id"], "sk": "token", "token": token, "requested_by": context.function_name}
    )
    boto3.client("sns").publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=f"Approve run {event['run_id']}",
        Message=json.dumps({"run_id": event["run_id"], "token": token}),
    )
    return {"requested": True}
