"""Flags behind the product's admin API, the runbook's ``curl -X POST https://api.skillancer.com/admin/flags``.

The contract the product's API is expected to keep (there is no published specification; the runbook's call is
its write half):

* ``Authorization: Bearer <admin token>`` on every call; 401 without it or with a wrong one;
* read: ``GET {base}/admin/flags/{flag}`` -> 200 ``{"flag": <name>, "enabled": <bool>}``, 404 for an unknown flag;
* write: ``POST {base}/admin/flags`` with JSON ``{"flag": <name>, "enabled": <bool>}`` -> 200 with the flag as
  now set; 400 for a body that is not exactly that, 404 for an unknown flag.

The write is not conditional: the step reads the flag right before writing and refuses if it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from functions.rollbacks.feature_flag.adapters import FlagNotFound, FlagProviderRefused, from_text
from functions.rollbacks.feature_flag.adapters.http import call


@dataclass(frozen=True)
class AdminApiFlags:
    base_url: str
    token: str

    @property
    def location(self) -> str:
        return f"admin-api:{self.base_url.rstrip('/')}"

    def read(self, name: str) -> bool:
        response = call("GET", f"{self.base_url.rstrip('/')}/admin/flags/{quote(name, safe='')}", self.token)
        if response.status == 404:
            raise FlagNotFound(f"target.flags: the admin API has no flag {name}")
        body = response.body if isinstance(response.body, dict) else {}
        if body.get("flag") != name:
            raise FlagProviderRefused(f"the admin API answered for {body.get('flag')!r} when asked for {name}")
        return from_text(name, body.get("enabled"), "the admin API")

    def write(self, name: str, enabled: bool, *, expected: bool) -> None:
        response = call(
            "POST", f"{self.base_url.rstrip('/')}/admin/flags", self.token, body={"flag": name, "enabled": enabled}
        )
        if response.status == 404:
            raise FlagNotFound(f"the admin API has no flag {name}")
