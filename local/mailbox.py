"""An inbox for the emulated SNS topics: an SQS queue subscribed to a topic, read back as emails."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

LINK = re.compile(r"https?://\S+/approvals/\S+")


@dataclass(frozen=True)
class Email:
    recipient: str | None
    subject: str
    body: str

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)


class Mailbox:
    def __init__(self, sns: Any, sqs: Any, topic_arn: str) -> None:
        self._sqs = sqs
        name = f"inbox-{uuid.uuid4().hex[:8]}"
        self._queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.received: list[Email] = []

    def fetch(self) -> list[Email]:
        """New emails since the last fetch (also kept in ``received``)."""
        new: list[Email] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                envelope = json.loads(message["Body"])
                recipient = (envelope.get("MessageAttributes") or {}).get("recipient", {}).get("Value")
                new.append(Email(recipient=recipient, subject=envelope.get("Subject") or "", body=envelope["Message"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.received.extend(new)
        return new
