"""Inboxes of the emulators, read back as emails.

- :class:`SesOutbox`: what the emulated SES sent (moto's record of every ``SendEmail``): the approval and escalation
  emails, one message per person.
- :class:`Mailbox`: an SQS queue subscribed to an SNS topic: the broadcasts (war room, support).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.aws.ses import sent_emails

LINK = re.compile(r"https?://\S+/approvals/\S+")


@dataclass(frozen=True)
class Email:
    recipient: str | None
    subject: str
    body: str  # the plain-text part
    html: str | None = None  # the HTML part (SES only)
    to: tuple[str, ...] = field(default=())  # every addressee (SES: To, Cc and Bcc)

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
                new.append(Email(recipient=None, subject=envelope.get("Subject") or "", body=envelope["Message"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.received.extend(new)
        return new


class SesOutbox:
    """The messages the emulated SES accepted since this outbox was opened, as their recipients get them."""

    def __init__(self) -> None:
        self._seen = len(sent_emails())
        self.received: list[Email] = []

    def fetch(self) -> list[Email]:
        """New emails since the last fetch (also kept in ``received``)."""
        sent = sent_emails()
        new = [
            Email(
                recipient=sent_email.to[0] if len(sent_email.to) == 1 else None,
                subject=sent_email.subject,
                body=sent_email.text or "",
                html=sent_email.html,
                to=(*sent_email.to, *sent_email.cc, *sent_email.bcc),
            )
            for sent_email in sent[self._seen :]
        ]
        self._seen = len(sent)
        self.received.extend(new)
        return new
