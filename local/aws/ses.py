"""The emulated SES: what was sent (read back from moto's own record) and faults to inject at the wire.

moto 5.2.5 records every SES v2 ``SendEmail`` in the SES backend's ``sent_messages``, which is the inbox the tests
and the drill read; it keeps only the HTML part of a message, so ``patches.py`` also keeps the whole request on the
recorded message (``request``: subject, text and HTML parts, configuration set).

    FAULTS.fail_next("TooManyRequestsException", "Maximum sending rate exceeded.", times=3)
    FAULTS.fail_next("MessageRejected", "Email address is not verified.", recipient="eng-lead@skillancer.com")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import ServiceException

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class SentEmail:
    """One message SES accepted, as the recipient's mail client would see it."""

    message_id: str
    sender: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    text: str | None
    html: str | None
    configuration_set: str | None


def sent_emails() -> list[SentEmail]:
    """Every message the emulated SES accepted so far, in order."""
    from moto.ses.models import ses_backends

    backend = ses_backends[ACCOUNT][REGION]
    return [_as_sent(message) for message in list(backend.sent_messages)]


def _as_sent(message: Any) -> SentEmail:
    request: dict[str, Any] = getattr(message, "request", None) or {}
    simple = request.get("Content", {}).get("Simple", {})
    body = simple.get("Body", {})
    destinations: dict[str, list[str]] = getattr(message, "destinations", None) or {}
    return SentEmail(
        message_id=message.id,
        sender=message.source,
        to=list(destinations.get("ToAddresses", [])),
        cc=list(destinations.get("CcAddresses", [])),
        bcc=list(destinations.get("BccAddresses", [])),
        subject=getattr(message, "subject", "") or "",
        text=body.get("Text", {}).get("Data") if request else None,
        html=body.get("Html", {}).get("Data") if request else getattr(message, "body", None),
        configuration_set=request.get("ConfigurationSetName"),
    )


def verify_identity(identity: str) -> None:
    """Make ``identity`` (a domain or an address) a verified sender in the emulated account."""
    from moto.ses.models import ses_backends

    ses_backends[ACCOUNT][REGION].create_email_identity_v2(identity, None, None, None)


class InjectedSesError(ServiceException):
    """An injected SES error, serialized by moto from the SES v2 model (HTTP status included) as SES answers it."""


@dataclass
class _Fault:
    code: str
    message: str
    times: int
    recipient: str | None


class SesFaults:
    """Errors the emulated SES v2 answers ``SendEmail`` with instead of sending (nothing is recorded as sent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self.refused: list[tuple[str, list[str]]] = []  # (error code, recipients) of each refused request

    def fail_next(self, code: str, message: str, *, times: int = 1, recipient: str | None = None) -> None:
        """Answer the next ``times`` sends (to ``recipient`` only, if given) with SES error ``code``."""
        with self._lock:
            self._faults.append(_Fault(code, message, times, recipient))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.refused.clear()

    def raise_if_injected(self, recipients: list[str]) -> None:
        with self._lock:
            fault = next((f for f in self._faults if f.recipient is None or f.recipient in recipients), None)
            if fault is None:
                return
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            self.refused.append((fault.code, list(recipients)))
        raise InjectedSesError(fault.code, fault.message)


FAULTS = SesFaults()
