"""A fake Statuspage.io REST API (v1) for incidents: ``Authorization: OAuth <key>``, page ids, the incident
body schema and statuses checked as the real API does (401, 404, 422), incidents kept for assertions."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from local.fakes.http import LocalHttpServer

STATUSES = {
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "scheduled",
    "in_progress",
    "verifying",
    "completed",
}
IMPACTS = {"none", "maintenance", "minor", "major", "critical"}
INCIDENTS = re.compile(r"^/v1/pages/([^/]+)/incidents(?:/([^/]+))?$")


class FakeStatuspage:
    def __init__(self, page_id: str = "skillancerpage") -> None:
        self.page_id = page_id
        self.api_key = secrets.token_hex(16)
        self.incidents: dict[str, dict[str, Any]] = {}
        self.fail_with: int | None = None
        self._server = LocalHttpServer(self._handle)

    @property
    def api_base(self) -> str:
        return self._server.base_url + "/v1"

    def __enter__(self) -> FakeStatuspage:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _error(self, status: int, message: str) -> tuple[int, str, str]:
        return status, "application/json", json.dumps({"error": message})

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
        if self.fail_with:
            return self._error(self.fail_with, "Service Unavailable")
        if headers.get("Authorization") != f"OAuth {self.api_key}":
            return self._error(401, "Could not authenticate")
        match = INCIDENTS.match(path)
        if not match or match.group(1) != self.page_id:
            return self._error(404, "The requested resource could not be found.")
        incident_id = match.group(2)
        if method == "GET" and incident_id in self.incidents:
            return 200, "application/json", json.dumps(self.incidents[incident_id])
        if method not in ("POST", "PATCH") or (method == "POST") == bool(incident_id):
            return self._error(405, "Method not allowed")
        try:
            incident = json.loads(body)["incident"]
            assert isinstance(incident, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._error(400, "incident is missing")
        if method == "POST" and not incident.get("name"):
            return self._error(422, "name can't be blank")
        if "status" in incident and incident["status"] not in STATUSES:
            return self._error(422, f"status is not included in the list: {incident['status']}")
        if "impact_override" in incident and incident["impact_override"] not in IMPACTS:
            return self._error(422, "impact_override is not included in the list")
        now = datetime.now(UTC).isoformat()
        if method == "POST":
            incident_id = secrets.token_hex(6)
            record = {"id": incident_id, "page_id": self.page_id, "created_at": now, "incident_updates": [], **incident}
            record.setdefault("status", "investigating")
            self.incidents[incident_id] = record
        elif incident_id not in self.incidents:
            return self._error(404, "The requested resource could not be found.")
        else:
            record = self.incidents[incident_id]
            record.update(incident)
        record["updated_at"] = now
        record["incident_updates"].append(
            {"status": record["status"], "body": incident.get("body", ""), "created_at": now}
        )
        return (201 if method == "POST" else 200), "application/json", json.dumps(record)
