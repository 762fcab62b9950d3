"""Notifications over SNS. Approval requests carry a ``recipient`` attribute that email subscriptions filter on."""

from __future__ import annotations

from typing import Any

SUBJECT_LIMIT = 100


class SnsNotifier:
    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, subject: str, message: str, recipient: str | None = None) -> str:
        attributes = {"recipient": {"DataType": "String", "StringValue": recipient}} if recipient else {}
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=subject[:SUBJECT_LIMIT],
            Message=message,
            MessageAttributes=attributes,
        )
        return str(response["MessageId"])
