"""Approver identity from Cognito ID tokens (moto's cognito-idp issues real RS256 JWTs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws
from moto.utilities.utils import load_resource

from functions.logic.identity import IdentityRejected, verify_approver
from functions.settings import Approver, IdentityProviderSettings

REGION = "us-east-1"


@dataclass
class Pool:
    settings: IdentityProviderSettings
    tokens: dict[str, str]  # username -> ID token
    subjects: dict[str, str]  # username -> sub
    client: Any


def key_for(token: str) -> Any:
    """moto signs every pool's tokens with one published key (kid "dummy")."""
    jwks = load_resource("cognitoidp/resources/jwks-public.json")
    return jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]].key


@pytest.fixture
def pool() -> Iterator[Pool]:
    with mock_aws():
        cognito: Any = boto3.client("cognito-idp", region_name=REGION)
        pool_id = cognito.create_user_pool(PoolName="approvers")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName="approval-page", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        tokens, subjects = {}, {}
        for user in ("cto", "security"):
            cognito.admin_create_user(UserPoolId=pool_id, Username=user, MessageAction="SUPPRESS")
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=user, Password="Correct-Horse-9!", Permanent=True
            )
            auth = cognito.admin_initiate_auth(
                UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user, "PASSWORD": "Correct-Horse-9!"},
            )["AuthenticationResult"]  # fmt: skip
            tokens[user] = auth["IdToken"]
            subjects[user] = jwt.decode(auth["IdToken"], options={"verify_signature": False})["sub"]
        issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
        settings = IdentityProviderSettings(
            issuer=issuer, audience=client_id, jwks_url=f"{issuer}/.well-known/jwks.json"
        )
        yield Pool(settings, tokens, subjects, cognito)


def approver(pool: Pool, user: str) -> Approver:
    return Approver(
        id=user, name=user.upper(), email=f"{user}@skillancer.com", roles=[user], subject=pool.subjects[user]
    )


def test_the_approvers_own_id_token_is_accepted(pool: Pool) -> None:
    claims = verify_approver(pool.tokens["cto"], approver(pool, "cto"), pool.settings, key_for)
    assert claims["sub"] == pool.subjects["cto"]


def test_somebody_elses_valid_token_is_refused(pool: Pool) -> None:
    with pytest.raises(IdentityRejected, match="signed in as somebody else"):
        verify_approver(pool.tokens["security"], approver(pool, "cto"), pool.settings, key_for)


def test_missing_token_asks_to_sign_in(pool: Pool) -> None:
    with pytest.raises(IdentityRejected, match="sign in"):
        verify_approver(None, approver(pool, "cto"), pool.settings, key_for)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"audience": "another-client"}, "InvalidAudienceError"),
        ({"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, "InvalidIssuerError"),
    ],
)
def test_token_for_another_client_or_pool_is_refused(pool: Pool, change: dict[str, str], error: str) -> None:
    settings = pool.settings.model_copy(update=change)
    with pytest.raises(IdentityRejected, match=error):
        verify_approver(pool.tokens["cto"], approver(pool, "cto"), settings, key_for)


def test_tampered_token_is_refused(pool: Pool) -> None:
    header, payload, signature = pool.tokens["cto"].split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = pool.subjects["security"]
    forged = ".".join([header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature])
    with pytest.raises(IdentityRejected, match="InvalidSignatureError"):
        verify_approver(forged, approver(pool, "security"), pool.settings, key_for)


def test_expired_token_is_refused(pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = jwt.decode(pool.tokens["cto"], options={"verify_signature": False})["exp"]
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(issued + 60))
    with pytest.raises(IdentityRejected, match="ExpiredSignatureError"):
        verify_approver(pool.tokens["cto"], approver(pool, "cto"), pool.settings, key_for)


class _FrozenDatetime:
    """Stands in for ``datetime`` inside PyJWT: now() is a fixed instant."""

    def __init__(self, timestamp: int) -> None:
        from datetime import UTC, datetime

        self._now = datetime.fromtimestamp(timestamp, tz=UTC)
        self._real = datetime

    def now(self, tz: Any = None) -> Any:
        return self._now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
