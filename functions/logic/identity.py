"""Approver identity from an identity provider (Cognito or any OIDC issuer): when one is configured, a decision
also needs a valid ID token whose subject is the link's approver. Identities are compared by the stable
subject id, never by email text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt

from functions.settings import Approver, IdentityProviderSettings


class IdentityRejected(Exception):
    """No token, an invalid one, or one for somebody else; the message is safe to show."""


SigningKeyFor = Callable[[str], Any]  # token -> the issuer's public key that signed it


def verify_approver(
    token: str | None, approver: Approver, settings: IdentityProviderSettings, key_for: SigningKeyFor
) -> dict[str, Any]:
    claims = verify_id_token(token, settings, key_for)
    if approver.subject is None:
        raise IdentityRejected("no identity is registered for you as an approver; ask the on-call lead")
    if claims["sub"] != approver.subject:
        raise IdentityRejected("you are signed in as somebody else than the approver this link was sent to")
    return claims


def verify_id_token(token: str | None, settings: IdentityProviderSettings, key_for: SigningKeyFor) -> dict[str, Any]:
    """A valid ID token of the provider for this app: signature (JWKS), issuer, audience, expiry, subject."""
    if not token:
        raise IdentityRejected("sign in with your company account to decide")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key_for(token),
            algorithms=["RS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise IdentityRejected(f"your sign-in is not valid ({type(error).__name__}); sign in again") from None
    if claims.get("token_use", "id") != "id":
        raise IdentityRejected("an ID token is required")
    return claims


def jwks_key_resolver(jwks_url: str) -> SigningKeyFor:
    client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)

    def key_for(token: str) -> Any:
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWTError as error:
            raise IdentityRejected(f"your sign-in could not be checked ({type(error).__name__})") from None

    return key_for
