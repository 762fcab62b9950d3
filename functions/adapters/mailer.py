"""Email to one person through SES v2: each message has exactly one recipient, a text and an HTML part, and is
sent from the configured, verified identity. Nothing is appended to it (SNS email subscriptions add an unsubscribe
link that mail scanners follow, silently unsubscribing the approver).

Throttling, 5xx, timeouts and dropped connections are raised as botocore raised them (transient:
:func:`functions.transient.is_transient`, the workflow retries the step); a refusal that will not change on a retry
(``MessageRejected``, an unverified identity, a missing configuration set, access denied) is :class:`EmailRefused`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from functions.adapters.aws import client_with_timeouts
from functions.transient import is_transient


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    text: str
    html: str


class EmailRefused(Exception):
    """SES refused the message for good; the message is SES's error code and text."""


class EmailSender(Protocol):
    def send(self, to: str, message: EmailMessage) -> str:
        """Send ``message`` to the one address ``to``; returns the message id. Raises EmailRefused."""
        ...


def ses_client() -> Any:
    """SES v2, bounded: 2 s to connect, 5 s to answer, two attempts (throttling included) before the step fails
    and the workflow retries it."""
    return client_with_timeouts("sesv2", connect_seconds=2, read_seconds=5, attempts=2)


class SesEmailSender:
    def __init__(self, ses: Any, from_address: str, configuration_set: str | None = None) -> None:
        self._ses = ses
        self._from = from_address
        self._configuration_set = configuration_set

    def send(self, to: str, message: EmailMessage) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": self._from,
            "Destination": {"ToAddresses": [to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._ses.send_email(**request)
        except ClientError as error:
            if is_transient(error):
                raise
            problem = error.response.get("Error", {})
            raise EmailRefused(f"{problem.get('Code', 'Error')}: {problem.get('Message', '')}") from error
        return str(response["MessageId"])
