"""The platform's health endpoints, emulated from the fake cluster's state.

``GET /<deployment>/health`` answers 200 ``{"status": "healthy", ...}`` when the Deployment runs a version outside
``broken_versions`` and its rollout is complete with every pod ready; otherwise 503 ``{"status": "unhealthy", ...}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.kube.server import FakeKubernetes


def image_tag(image: str) -> str:
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


class HealthApp:
    def __init__(
        self, kube: FakeKubernetes, *, namespace: str = "production", broken_versions: Iterable[str] = ("v1.0.0",)
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.broken_versions = set(broken_versions)
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url_for(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port}/{service}/health"

    def health(self, service: str) -> tuple[int, dict[str, Any]]:
        try:
            deployment = self.kube.deployment(self.namespace, service)
        except KeyError:
            return 404, {"status": "unknown", "service": service, "detail": "no such deployment"}
        containers = deployment["spec"]["template"]["spec"]["containers"]
        version = image_tag(containers[0]["image"])
        spec, status = deployment["spec"], deployment.get("status") or {}
        replicas = int(spec.get("replicas", 1))
        ready = int(status.get("readyReplicas") or 0)
        rolled_out = (
            int(status.get("observedGeneration") or 0) >= int(deployment["metadata"]["generation"])
            and int(status.get("updatedReplicas") or 0) == replicas
            and int(status.get("replicas") or 0) == replicas
            and int(status.get("availableReplicas") or 0) == replicas
        )
        body: dict[str, Any] = {"service": service, "version": version, "ready": f"{ready}/{replicas}"}
        if version in self.broken_versions:
            return 503, {"status": "unhealthy", **body, "detail": f"{version} returns 500 on /health"}
        if not rolled_out:
            return 503, {"status": "unhealthy", **body, "detail": "not all pods of the current version are ready"}
        return 200, {"status": "healthy", **body}

    def start(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
                if len(parts) == 2 and parts[1] == "health":
                    code, body = app.health(parts[0])
                else:
                    code, body = 404, {"status": "unknown", "detail": "try /<service>/health"}
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HealthApp:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
