"""Browser sign-in for approvers: the OAuth 2.0 authorization-code flow with PKCE (S256) against the identity
provider (Cognito managed login, or any OIDC provider), ending in an HttpOnly ID-token cookie.

Stateless on the server: ``state`` carries the approval page to return to (path and query on this API only) and
an expiry, signed with HMAC-SHA256 under the link-signing key, so it cannot be altered or swapped for another
page. The PKCE ``code_verifier`` is derived from the signed ``state`` with the same key: only this API can compute
it, it never reaches the browser, and a code intercepted on its way back cannot be redeemed without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

from functions.settings import IdentityProviderSettings

COOKIE = "approver_id_token"
STATE_TTL_SECONDS = 600
TOKEN_TIMEOUT_SECONDS = 5.0
# Only an approval page of this API may be returned to (no open redirect): /approvals/<32 hex>, its query.
RETURN_PATH = re.compile(r"^/approvals/[0-9a-f]{32}$")
SCOPES = "openid email"


class SignInRefused(Exception):
    """The callback cannot complete; the message is safe to show."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, payload: str) -> str:
    return _b64(hmac.new(key, f"{purpose}|{payload}".encode(), hashlib.sha256).digest())


def make_state(key: bytes, path: str, query: str, now: float) -> str:
    if not RETURN_PATH.fullmatch(path):
        raise SignInRefused("this page cannot be signed in to")
    payload = _b64(json.dumps({"p": path, "q": query, "x": int(now) + STATE_TTL_SECONDS, "n": secrets.token_hex(8)},
                              separators=(",", ":")).encode())  # fmt: skip
    return f"{payload}.{_mac(key, 'sign-in-state', payload)}"


def return_target(key: bytes, state: str, now: float) -> str:
    """The approval page (path and query relative to the API) that ``state`` was made for; refused when the state
    was altered, has expired or names anything but an approval page."""
    payload, _, signature = state.partition(".")
    if not payload or not hmac.compare_digest(_mac(key, "sign-in-state", payload).encode(), signature.encode()):
        raise SignInRefused("the sign-in was not started here; open the link from the email again")
    try:
        claims = json.loads(_unb64(payload))
        path, query, expires = str(claims["p"]), str(claims["q"]), int(claims["x"])
    except (ValueError, KeyError, TypeError):
        raise SignInRefused("the sign-in was not started here; open the link from the email again") from None
    if now >= expires:
        raise SignInRefused("the sign-in took too long; open the link from the email again")
    if not RETURN_PATH.fullmatch(path) or any(c in query for c in "\r\n#"):
        raise SignInRefused("the sign-in can only return to an approval page")
    return f"{path}?{query}" if query else path


def code_verifier(key: bytes, state: str) -> str:
    """43 characters of [A-Za-z0-9-_] (RFC 7636), known only to whoever holds the signing key."""
    return _mac(key, "pkce-verifier", state)


def code_challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def authorize_url(provider: IdentityProviderSettings, key: bytes, state: str) -> str:
    query = urlencode({
        "response_type": "code",
        "client_id": provider.audience,
        "redirect_uri": provider.redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": code_challenge(code_verifier(key, state)),
        "code_challenge_method": "S256",
    })  # fmt: skip
    return f"{provider.authorize_url}?{query}"


def api_url(provider: IdentityProviderSettings, target: str) -> str:
    """``target`` (a path relative to the API) as an absolute URL on this API: next to the callback."""
    base = str(provider.redirect_uri).removesuffix("auth/callback")
    return base.rstrip("/") + target


def cookie_path(provider: IdentityProviderSettings) -> str:
    return urlsplit(api_url(provider, "/approvals")).path


def exchange_code(provider: IdentityProviderSettings, key: bytes, code: str, state: str) -> str:
    """The ID token for ``code``, redeemed at the provider's token endpoint with the PKCE verifier."""
    body = urlencode({
        "grant_type": "authorization_code",
        "client_id": provider.audience,
        "code": code,
        "redirect_uri": provider.redirect_uri,
        "code_verifier": code_verifier(key, state),
    }).encode()  # fmt: skip
    request = urllib.request.Request(
        str(provider.token_url), data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TOKEN_TIMEOUT_SECONDS) as response:
            answer: dict[str, Any] = json.loads(response.read(64 * 1024))
    except urllib.error.HTTPError as error:
        refused = f"the sign-in was not accepted ({error.code}); open the link from the email again"
        raise SignInRefused(refused) from None
    except (urllib.error.URLError, TimeoutError, ValueError):
        raise SignInRefused("the sign-in service did not answer; try again") from None
    token = answer.get("id_token")
    if not isinstance(token, str) or not token:
        raise SignInRefused("the sign-in returned no identity; open the link from the email again")
    return token


def session_cookie(provider: IdentityProviderSettings, token: str, seconds_left: int) -> str:
    return (
        f"{COOKIE}={token}; Max-Age={max(0, seconds_left)}; Path={cookie_path(provider)}; "
        "HttpOnly; Secure; SameSite=Lax"
    )
