"""A fake of the product's admin flags API (the contract in ``functions/rollbacks/feature_flag/adapters/admin_api.py``),
on 127.0.0.1: ``Authorization: Bearer <token>`` (401 otherwise), ``GET /admin/flags/{flag}`` and ``POST /admin/flags``
with exactly ``{"flag": <str>, "enabled": <bool>}`` as JSON (400 otherwise), 404 for an unknown flag. Flags are kept
for assertions, every write logged in ``writes``; see :class:`Faults` for failures."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import unquote, urlsplit

from local.fakes.faults import Faults, error
from local.fakes.http import LocalHttpServer

FLAGS = "/admin/flags"


class FakeAdminFlags:
    def __init__(self, flags: dict[str, bool] | None = None) -> None:
        self.token = secrets.token_urlsafe(24)
        self.flags: dict[str, bool] = dict(flags or {})
        self.writes: list[tuple[str, bool]] = []
        self.faults = Faults()
        self._server = LocalHttpServer(self._handle)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def __enter__(self) -> FakeAdminFlags:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _flag(self, name: str) -> tuple[int, str, str]:
        return 200, "application/json", json.dumps({"flag": name, "enabled": self.flags[name]})

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        url = urlsplit(path)
        failure = self.faults.before_call()
        if failure:
            return error(failure, "internal error")
        if headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "unauthorized")
        if method == "GET" and url.path.startswith(FLAGS + "/"):
            name = unquote(url.path.removeprefix(FLAGS + "/"))
            return self._flag(name) if name in self.flags else error(404, f"unknown flag {name}")
        if url.path != FLAGS:
            return error(404, "not found")
        if method != "POST":
            return error(405, "method not allowed")
        if not headers.get("Content-Type", "").startswith("application/json"):
            return error(400, "expected application/json")
        try:
            payload: Any = json.loads(body)
        except ValueError:
            return error(400, "invalid JSON")
        if not isinstance(payload, dict) or set(payload) != {"flag", "enabled"}:
            return error(400, 'expected {"flag": <name>, "enabled": <bool>}')
        name, enabled = payload["flag"], payload["enabled"]
        if not isinstance(name, str) or not isinstance(enabled, bool):
            return error(400, "flag must be a string and enabled a boolean")
        if name not in self.flags:
            return error(404, f"unknown flag {name}")
        status = self.faults.failing_flags.get(name)
        if status:
            return error(status, "internal error")
        self.flags[name] = enabled
        self.writes.append((name, enabled))
        lost = self.faults.after_write()
        return error(lost, "bad gateway") if lost else self._flag(name)
