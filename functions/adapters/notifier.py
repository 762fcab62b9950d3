"""Broadcasts over SNS (the war room, support): one message to every subscriber of the notifications topic.

Mail to one person (an approver's link, an escalation) goes through SES instead (:mod:`functions.adapters.email`):
SNS email subscriptions append a one-click unsubscribe link that mail scanners follow."""

from __future__ import annotations

from typing import Any

from functions.text import subject_line


class SnsNotifier:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str) -> str:
        response = self._sns.publish(TopicArn=self._topic_arn, Subject=subject_line(subject), Message=message)
        return str(response["MessageId"])
