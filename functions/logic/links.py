"""Signed approval links: bound to one approval request, one approver, an expiry and a nonce.

The task token never appears in a link; the link only identifies a pending request the server holds.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode


class InvalidLink(Exception):
    """The link is forged, altered or expired."""


@dataclass(frozen=True)
class LinkClaims:
    approval_id: str
    approver_id: str
    expires: int
    nonce: str


def _mac(key: bytes, purpose: str, claims: LinkClaims) -> str:
    message = "|".join([purpose, claims.approval_id, claims.approver_id, str(claims.expires), claims.nonce])
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def sign(key: bytes, claims: LinkClaims) -> str:
    return _mac(key, "link", claims)


def csrf_token(key: bytes, claims: LinkClaims) -> str:
    return _mac(key, "csrf", claims)


def build_url(base_url: str, key: bytes, claims: LinkClaims) -> str:
    query = urlencode({"a": claims.approver_id, "e": claims.expires, "n": claims.nonce, "s": sign(key, claims)})
    return f"{base_url.rstrip('/')}/approvals/{claims.approval_id}?{query}"


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def verify(key: bytes, claims: LinkClaims, signature: str, now: float) -> None:
    if not _same(sign(key, claims), signature):
        raise InvalidLink("this link is not valid")
    if now >= claims.expires:
        raise InvalidLink("this link has expired")


def verify_csrf(key: bytes, claims: LinkClaims, token: str) -> None:
    if not _same(csrf_token(key, claims), token):
        raise InvalidLink("the form is not valid; open the link from the email again")
