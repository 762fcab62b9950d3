"""Bearer token authentication as an EKS cluster does it (aws-iam-authenticator), plus static tokens for kubectl.

An EKS token is ``k8s-aws-v1.`` + unpadded base64url of a presigned STS ``GetCallerIdentity`` URL. EKS forwards it
to STS, which checks the SigV4 signature; the signed ``x-k8s-aws-id`` header binds the token to one cluster.
Offline, the fake checks the same signature itself with the secret of the access key: known keys are those passed
to it plus the process's ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (what moto and the local Lambdas use).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_LIFETIME = timedelta(minutes=15)
_STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$")


class Unauthorized(Exception):
    """The request's credentials are missing or not valid for this cluster (401)."""


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def presigned_signature(url: str, headers: Mapping[str, str], secret: str) -> str:
    """The SigV4 query-string signature STS would compute for ``url`` sent with ``headers``."""
    parsed = urllib.parse.urlsplit(url)
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(pairs))
    params = dict(pairs)
    signed = params["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parsed.netloc, **{k.lower(): v for k, v in headers.items()}}
    canonical_headers = "".join(f"{name}:{' '.join(all_headers.get(name, '').split())}\n" for name in signed)
    canonical_request = "\n".join(
        ["GET", parsed.path or "/", query, canonical_headers, ";".join(signed), hashlib.sha256(b"").hexdigest()]
    )
    _access_key, date, region, service, _terminator = params["X-Amz-Credential"].split("/")
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            params["X-Amz-Date"],
            f"{date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    return hmac.new(_signing_key(secret, date, region, service), string_to_sign.encode(), hashlib.sha256).hexdigest()


class Authenticator:
    def __init__(
        self,
        cluster_name: str,
        static_tokens: Mapping[str, str],
        aws_credentials: Mapping[str, str] | None = None,
        *,
        allow_loopback_sts: bool = True,
    ) -> None:
        self.cluster_name = cluster_name
        self.static_tokens = dict(static_tokens)  # token -> user name
        self.aws_credentials = dict(aws_credentials or {})
        self.allow_loopback_sts = allow_loopback_sts
        self.learn_environment_credentials()

    def learn_environment_credentials(self) -> None:
        """Remember the process's AWS credentials (kept: emulators swap the environment around each invocation)."""
        env_key, env_secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if env_key and env_secret:
            self.aws_credentials.setdefault(env_key, env_secret)

    def _secret(self, access_key: str) -> str | None:
        self.learn_environment_credentials()
        return self.aws_credentials.get(access_key)

    def authenticate(self, authorization: str | None, now: datetime | None = None) -> str:
        """The user name for an ``Authorization`` header value; raises Unauthorized with the reason."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("no bearer token")
        token = authorization[len("Bearer ") :].strip()
        if token in self.static_tokens:
            return self.static_tokens[token]
        if not token.startswith(TOKEN_PREFIX):
            raise Unauthorized("unknown token")
        return self._verify_eks_token(token[len(TOKEN_PREFIX) :], now or datetime.now(UTC))

    def _verify_eks_token(self, encoded: str, now: datetime) -> str:
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError) as error:
            raise Unauthorized("token is not base64url") from error
        parsed = urllib.parse.urlsplit(url)
        params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        host_ok = bool(_STS_HOST.match(parsed.hostname or "")) or (
            self.allow_loopback_sts and bool(_LOOPBACK.match(parsed.netloc))
        )
        if not host_ok or parsed.path not in ("", "/"):
            raise Unauthorized(f"not an STS endpoint: {parsed.scheme}://{parsed.netloc}{parsed.path}")
        if params.get("Action") != "GetCallerIdentity" or params.get("Version") != "2011-06-15":
            raise Unauthorized("not a presigned GetCallerIdentity request")
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in params:
            raise Unauthorized("not a SigV4 presigned URL")
        signed = params.get("X-Amz-SignedHeaders", "").split(";")
        if CLUSTER_ID_HEADER not in signed:
            raise Unauthorized(f"{CLUSTER_ID_HEADER} is not a signed header")
        try:
            signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            access_key = params["X-Amz-Credential"].split("/")[0]
        except (KeyError, ValueError) as error:
            raise Unauthorized("malformed X-Amz-Date or X-Amz-Credential") from error
        if now - signed_at > TOKEN_LIFETIME:
            raise Unauthorized("token expired")
        if signed_at - now > timedelta(minutes=5):
            raise Unauthorized("token signed in the future")
        secret = self._secret(access_key)
        if secret is None:
            raise Unauthorized(f"unknown AWS access key id {access_key}")
        expected = presigned_signature(url, {CLUSTER_ID_HEADER: self.cluster_name}, secret)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            raise Unauthorized(f"signature does not match (token for another cluster than {self.cluster_name}?)")
        return f"aws-iam:{access_key}"
