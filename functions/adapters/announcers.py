"""Where a rollback is announced: Slack (incoming webhook), Statuspage.io (incidents API), SNS (support)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class AnnouncementFailed(Exception):
    """A channel refused or could not be reached; the message says which and why."""


def _send(request: urllib.request.Request, channel: str, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(65536).decode(errors="replace")
    except urllib.error.HTTPError as error:
        raise AnnouncementFailed(f"{channel}: HTTP {error.code} {error.read(2048).decode(errors='replace')}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise AnnouncementFailed(f"{channel}: unreachable ({getattr(error, 'reason', error)})") from None


class SlackWebhook:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout

    def post(self, text: str) -> None:
        request = urllib.request.Request(
            self._url, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
        )
        status, body = _send(request, "slack", self._timeout)
        if status != 200 or body.strip() != "ok":
            raise AnnouncementFailed(f"slack: HTTP {status} {body}")


class Statuspage:
    """``POST /pages/{page_id}/incidents`` with ``Authorization: OAuth <api key>``."""

    def __init__(self, api_base: str, page_id: str, api_key: str, timeout: float = 5.0) -> None:
        self._base = api_base.rstrip("/")
        self._page_id = page_id
        self._api_key = api_key
        self._timeout = timeout

    def _call(self, method: str, path: str, incident: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self._base}/pages/{self._page_id}/{path}",
            data=json.dumps({"incident": incident}).encode(),
            headers={"Authorization": f"OAuth {self._api_key}", "Content-Type": "application/json"},
            method=method,
        )
        _, body = _send(request, "statuspage", self._timeout)
        document: dict[str, Any] = json.loads(body)
        return document

    def update_incident(self, incident_id: str, status: str, body: str) -> None:
        """``PATCH /pages/{page_id}/incidents/{incident_id}``: a new status with its update text."""
        self._call("PATCH", f"incidents/{incident_id}", {"status": status, "body": body})

    def open_incident(self, name: str, body: str, impact: str) -> str:
        created = self._call(
            "POST", "incidents", {"name": name, "status": "investigating", "body": body, "impact_override": impact}
        )
        return str(created["id"])
