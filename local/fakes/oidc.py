"""A small local OpenID Connect provider, the stand-in for Cognito's managed login (which moto does not have).

Endpoints as Cognito names them: ``/oauth2/authorize`` (the "login": ``login_as=<username>`` signs that user in
at once; without it, a form asks for the username), ``/oauth2/token`` (authorization code + PKCE S256, each code
once, for the registered client and redirect URI only), ``/.well-known/jwks.json`` and
``/.well-known/openid-configuration``. ID tokens are RS256 JWTs with ``iss``, ``aud``, ``sub``, ``exp``, ``iat``,
``email`` and ``token_use=id``, signed with an RSA key made at start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_ID = "local-oidc-1"


@dataclass(frozen=True)
class _Grant:
    username: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    expires: float


class LocalOidcProvider:
    """``users``: username -> email; each gets a random subject (``subject_of``)."""

    def __init__(self, client_id: str, users: dict[str, str], token_lifetime_seconds: int = 3600) -> None:
        self.client_id = client_id
        self.redirect_uris: set[str] = set()
        self.users = dict(users)
        self.subjects = {username: str(uuid.uuid4()) for username in users}
        self.token_lifetime_seconds = token_lifetime_seconds
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.requests: list[dict[str, str]] = []  # every request: method, path, query (what reached the provider)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider._serve(self, b"")

            def do_POST(self) -> None:
                provider._serve(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="local-oidc"
        )

    # --- what the relying party is configured with -------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authorize_url(self) -> str:
        return f"{self.issuer}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/oauth2/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    def subject_of(self, username: str) -> str:
        return self.subjects[username]

    def id_token(self, username: str, **changes: Any) -> str:
        """An ID token for ``username`` as the token endpoint issues it (``changes`` override claims)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": self.subjects[username], "email": self.users[username],
            "token_use": "id", "iat": now, "auth_time": now, "exp": now + self.token_lifetime_seconds,
            "cognito:username": username,
        } | changes  # fmt: skip
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})

    def __enter__(self) -> LocalOidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- HTTP --------------------------------------------------------------------------------------------

    def _serve(self, http: BaseHTTPRequestHandler, body: bytes) -> None:
        parts = urlsplit(http.path)
        self.requests.append({"method": http.command, "path": parts.path, "query": parts.query})
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path == "/oauth2/authorize" and http.command == "GET":
            self._authorize(http, query)
        elif parts.path == "/oauth2/token" and http.command == "POST":
            self._token(http, dict(parse_qsl(body.decode(), keep_blank_values=True)))
        elif parts.path == "/.well-known/jwks.json":
            self._reply(http, 200, "application/json", json.dumps({"keys": [self._jwk()]}))
        elif parts.path == "/.well-known/openid-configuration":
            self._reply(http, 200, "application/json", json.dumps(self._configuration()))
        else:
            self._reply(http, 404, "application/json", json.dumps({"error": "not_found"}))

    def _authorize(self, http: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect_uri not in self.redirect_uris:
            # never redirect to an unregistered URI: show the error here
            self._reply(http, 400, "text/plain", "invalid client_id or redirect_uri")
            return
        if (
            query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or "openid" not in query.get("scope", "").split()
        ):
            self._redirect(http, redirect_uri, {"error": "invalid_request", "state": query.get("state", "")})
            return
        username = query.get("login_as")
        if username is None:  # the login page: a form that comes back here with login_as
            fields = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in query.items())
            page = (
                '<!doctype html><form method="get" action="/oauth2/authorize">'
                f'{fields}<input name="login_as" autocomplete="username"><button>Sign in</button></form>'
            )
            self._reply(http, 200, "text/html", page)
            return
        if username not in self.users:
            self._reply(http, 401, "text/plain", "unknown user")
            return
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                username, self.client_id, redirect_uri, query["code_challenge"], time.time() + 300
            )
        self._redirect(http, redirect_uri, {"code": code, "state": query.get("state", "")})

    def _token(self, http: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # one use per code, valid or not
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if form.get("grant_type") != "authorization_code":
            error = "unsupported_grant_type"
        elif (
            grant is None
            or grant.expires < time.time()
            or form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or not verifier
            or challenge != grant.code_challenge  # PKCE: SHA-256 of the verifier is the challenge sent to authorize
        ):
            error = "invalid_grant"
        else:
            token = self.id_token(grant.username)
            answer = {"id_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime_seconds}
            self._reply(http, 200, "application/json", json.dumps(answer))
            return
        self._reply(http, 400, "application/json", json.dumps({"error": error}))

    def _jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return jwk | {"kid": KEY_ID, "alg": "RS256", "use": "sig"}

    def _configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.jwks_url,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email"],
        }

    @staticmethod
    def _redirect(http: BaseHTTPRequestHandler, redirect_uri: str, params: dict[str, str]) -> None:
        http.send_response(302)
        http.send_header("Location", f"{redirect_uri}?{urlencode(params)}")
        http.send_header("Content-Length", "0")
        http.end_headers()

    @staticmethod
    def _reply(http: BaseHTTPRequestHandler, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        http.send_response(status)
        http.send_header("Content-Type", content_type)
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
