"""A fake Slack incoming webhook that checks requests the way Slack does: POST of a JSON object with ``text``
(or ``blocks``) to the webhook's secret path; answers ``ok``, or Slack's error strings."""

from __future__ import annotations

import json
import secrets
from typing import Any

from local.fakes.http import LocalHttpServer


class FakeSlackWebhook:
    def __init__(self) -> None:
        self.path = f"/services/T0000000/B0000000/{secrets.token_urlsafe(18)}"
        self.messages: list[dict[str, Any]] = []
        self.fail_with: tuple[int, str] | None = None
        self._server = LocalHttpServer(self._handle)

    @property
    def url(self) -> str:
        return self._server.base_url + self.path

    def __enter__(self) -> FakeSlackWebhook:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        if self.fail_with:
            return self.fail_with[0], "text/plain", self.fail_with[1]
        if path != self.path:
            return 403, "text/plain", "invalid_token"
        if method != "POST":
            return 405, "text/plain", "invalid_method"
        if not headers.get("Content-Type", "").startswith("application/json"):
            return 400, "text/plain", "invalid_payload"
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, "text/plain", "invalid_payload"
        if not isinstance(payload, dict):
            return 400, "text/plain", "invalid_payload"
        if not payload.get("text") and not payload.get("blocks"):
            return 400, "text/plain", "no_text"
        self.messages.append(payload)
        return 200, "text/plain", "ok"
