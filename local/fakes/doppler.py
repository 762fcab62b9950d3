"""A fake of Doppler's REST API v3 for secrets (https://docs.doppler.com/reference/api), on 127.0.0.1.

Checks what Doppler checks: ``Authorization: Bearer <token>`` (a service token scoped to one project and config:
401 for an unknown token, 403 outside its config), ``project``, ``config`` and ``name`` query parameters (400 when
missing, 404 for an unknown project, config or secret), and the update body (``project``, ``config``, exactly one
of ``secrets`` or ``change_requests``; string values; ``originalValue`` must match the secret's value or the whole
update is refused). Errors are ``{"messages": [...], "success": false}``. Endpoints:

* ``GET /v3/configs/config/secret?project=&config=&name=`` -> ``{"name", "value": {"raw", "computed"}, "success"}``
* ``POST /v3/configs/config/secrets`` -> ``{"secrets": {NAME: {"raw", "computed"}}, "success": true}``

Secrets are kept per config; every write is logged in ``writes`` for assertions; see :class:`Faults` for failures.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.fakes.faults import Faults, error
from local.fakes.http import LocalHttpServer

SECRET, SECRETS = "/v3/configs/config/secret", "/v3/configs/config/secrets"


class FakeDoppler:
    def __init__(self, project: str = "skillancer", config: str = "prd", values: dict[str, str] | None = None) -> None:
        self.project, self.config = project, config
        self.token = "dp.st.prd." + secrets.token_hex(16)
        self.configs: dict[tuple[str, str], dict[str, str]] = {(project, config): dict(values or {})}
        self.writes: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.faults = Faults()
        self._lock = threading.Lock()
        self._server = LocalHttpServer(self._handle)

    @property
    def api_base(self) -> str:
        return self._server.base_url

    @property
    def values(self) -> dict[str, str]:
        return dict(self.configs[(self.project, self.config)])

    def set(self, name: str, value: str) -> None:
        """Someone changes a secret by hand (the dashboard, the CLI)."""
        self.configs[(self.project, self.config)][name] = value

    def __enter__(self) -> FakeDoppler:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        url = urlsplit(path)
        self.requests.append((method, url.path))
        failure = self.faults.before_call()
        if failure:
            return error(failure, "Internal server error")
        if headers.get("Authorization") != f"Bearer {self.token}":
            return error(401, "Invalid Auth token")
        if url.path == SECRET and method == "GET":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            return self._read(query)
        if url.path == SECRETS and method == "POST":
            if not headers.get("Content-Type", "").startswith("application/json"):
                return error(400, "Content-Type must be application/json")
            try:
                payload = json.loads(body)
            except ValueError:
                return error(400, "Invalid JSON body")
            return self._update(payload)
        if url.path in (SECRET, SECRETS):
            return error(405, "Method not allowed")
        return error(404, "Not found")

    def _config(self, project: Any, config: Any) -> dict[str, str] | tuple[int, str, str]:
        if not isinstance(project, str) or not isinstance(config, str) or not project or not config:
            return error(400, "project and config are required")
        if (project, config) not in self.configs:
            known_project = any(p == project for p, _ in self.configs)
            return error(
                404, "Could not find requested config" if known_project else "Could not find requested project"
            )
        if (project, config) != (self.project, self.config):
            return error(403, "This token does not have access to this config")
        return self.configs[(project, config)]

    def _read(self, query: dict[str, str]) -> tuple[int, str, str]:
        found = self._config(query.get("project"), query.get("config"))
        if isinstance(found, tuple):
            return found
        name = query.get("name")
        if not name:
            return error(400, "name is required")
        if name not in found:
            return error(404, "Could not find requested secret")
        value = found[name]
        return (
            200,
            "application/json",
            json.dumps({"name": name, "value": {"raw": value, "computed": value}, "success": True}),
        )

    def _update(self, payload: Any) -> tuple[int, str, str]:
        if not isinstance(payload, dict):
            return error(400, "Invalid JSON body")
        found = self._config(payload.get("project"), payload.get("config"))
        if isinstance(found, tuple):
            return found
        if ("secrets" in payload) == ("change_requests" in payload):
            return error(400, "Either secrets or change_requests is required (not both)")
        if "secrets" in payload:
            given = payload["secrets"]
            if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
                return error(400, "secrets must be an object of string values")
            updates = dict(given)
        else:
            requests = payload["change_requests"]
            if not isinstance(requests, list) or not requests:
                return error(400, "change_requests must be a non-empty array")
            updates = {}
            for change in requests:
                if not isinstance(change, dict) or not isinstance(change.get("name"), str):
                    return error(400, "each change request needs a name")
                unknown = set(change) - {
                    "name",
                    "originalName",
                    "value",
                    "originalValue",
                    "visibility",
                    "originalVisibility",
                }
                if unknown:
                    return error(400, f"Unsupported change request fields: {', '.join(sorted(unknown))}")
                name, original = change["name"], change.get("originalName")
                if original is not None and original != name:
                    return error(400, "renames are not supported by this fake")
                if "originalValue" in change and found.get(name) != change["originalValue"]:
                    return error(400, f"Secret {name} has changed since originalValue was read")
                if not isinstance(change.get("value"), str):
                    return error(400, f"value of {name} must be a string")
                updates[name] = change["value"]
        for name in updates:
            status = self.faults.failing_flags.get(name)
            if status:
                return error(status, "Internal server error")
        with self._lock:
            found.update(updates)
            self.writes.extend(updates.items())
        lost = self.faults.after_write()
        if lost:
            return error(lost, "Bad gateway")
        answer = {"secrets": {n: {"raw": v, "computed": v} for n, v in updates.items()}, "success": True}
        return 200, "application/json", json.dumps(answer)
