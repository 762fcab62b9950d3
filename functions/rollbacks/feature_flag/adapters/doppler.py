"""Flags as secrets of a Doppler config, through Doppler's REST API **v3** (https://docs.doppler.com/reference/api):

* authentication: ``Authorization: Bearer <token>`` (a service token with read/write access to the one config);
* read one secret: ``GET /v3/configs/config/secret?project=<p>&config=<c>&name=<NAME>``, answered
  ``{"name": ..., "value": {"raw": ..., "computed": ...}, "success": true}``; the raw value is the flag;
* update: ``POST /v3/configs/config/secrets`` with ``{"project", "config", "change_requests": [...]}``
  (https://docs.doppler.com/reference/config-secret-update): one change request ``{"name", "originalName",
  "value", "originalValue"}`` per flag; with ``originalValue`` set, Doppler processes the change only if the
  secret still holds that value (the guard against a flag changed since the approval). The endpoint takes
  either ``secrets`` (a plain map) or ``change_requests``, never both;
* errors: 4xx with ``{"messages": [...], "success": false}``; 429 beyond the rate limit (per IP and per token).

This is what ``doppler secrets set FEATURE_SKILLPOD_ENABLED=false`` in the runbook does, without the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.rollbacks.feature_flag.adapters import FlagNotFound, as_text, from_text
from functions.rollbacks.feature_flag.adapters.http import call

SECRET = "/v3/configs/config/secret"
SECRETS = "/v3/configs/config/secrets"


@dataclass(frozen=True)
class DopplerFlags:
    api_base: str
    project: str
    config: str
    token: str

    @property
    def location(self) -> str:
        return f"doppler:{self.project}/{self.config}"

    def read(self, name: str) -> bool:
        response = call(
            "GET",
            self.api_base.rstrip("/") + SECRET,
            self.token,
            fields={"project": self.project, "config": self.config, "name": name},
        )
        value = response.body.get("value") if isinstance(response.body, dict) else None
        raw = value.get("raw") if isinstance(value, dict) else None
        if response.status == 404 or raw is None:  # a deleted secret reads as 200 with null values
            raise FlagNotFound(f"target.flags: {name} is not a secret of Doppler {self.project}/{self.config}")
        return from_text(name, raw, f"Doppler {self.project}/{self.config}")

    def write(self, name: str, enabled: bool, *, expected: bool) -> None:
        change = {"name": name, "originalName": name, "value": as_text(enabled), "originalValue": as_text(expected)}
        body = {"project": self.project, "config": self.config, "change_requests": [change]}
        response = call("POST", self.api_base.rstrip("/") + SECRETS, self.token, body=body)
        if response.status == 404:
            raise FlagNotFound(f"{name}: Doppler {self.project}/{self.config} not found")
