"""FakeKubernetes: the fake API server over HTTPS on 127.0.0.1, its controller ticker, and knobs for tests.

with FakeKubernetes(cluster_name="skillancer-prod") as kube:
    kube.apply_deployment("production", "web", image="registry.example.com/web:v1")
    kube.settle()
    apps, core = kubernetes_clients(endpoint=kube.url, ca_data=kube.ca_data, cluster_name="skillancer-prod", ...)
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local.kube.api import Api, ApiError, Request, Response, WatchStream
from local.kube.auth import Authenticator, Unauthorized
from local.kube.controller import Controller
from local.kube.kubelet import FAULTS
from local.kube.selectors import parse_label_selector
from local.kube.store import Json, Store
from local.kube.tls import self_signed

MAX_RECORDED_REQUESTS = 2000


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any
    user: str
    status: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeKubernetes, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.context = context

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out as separate writes
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up or fail the TLS handshake are not worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.request.settimeout(10)
        self.request.do_handshake()
        self.request.settimeout(self.timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake records requests in ``FakeKubernetes.requests`` instead."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type") or ""
        try:
            user = fake.authenticator.authenticate(self.headers.get("Authorization"))
        except Unauthorized as reason:
            error = ApiError(401, "Unauthorized", f"Unauthorized: {reason}")
            fake._record(self.command, parsed.path, query, content_type, body, "", 401)
            self._send(Response(401, error.status()))
            return
        request = Request(self.command, parsed.path, query, content_type, body, user, self.headers.get("Accept") or "")
        fault = fake._take_fault(self.command, parsed.path)
        if fault is not None and fault.status:
            error = ApiError(fault.status, fault.reason, fault.message)
            fake._record(self.command, parsed.path, query, content_type, body, user, fault.status)
            self._send(Response(fault.status, error.status()))
            return
        result = fake.api.handle(request)
        if fault is not None:  # applied, but the answer never leaves: the client sees the connection drop
            fake._record(self.command, parsed.path, query, content_type, body, user, 0)
            self.close_connection = True
            return
        fake._record(self.command, parsed.path, query, content_type, body, user, getattr(result, "code", 200))
        if isinstance(result, WatchStream):
            self._stream(result)
        else:
            self._send(result)

    def _send(self, response: Response) -> None:
        payload = response.body if isinstance(response.body, str) else json.dumps(response.body)
        data = payload.encode()
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, event: Json) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, stream: WatchStream) -> None:
        self.close_connection = True
        deadline = time.monotonic() + stream.timeout_seconds if stream.timeout_seconds else None
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            for event in stream.initial:
                self._chunk(event)
            for live in stream.live:
                if self.server.fake.stopping.is_set() or (deadline is not None and time.monotonic() > deadline):
                    break
                if live is not None:
                    self._chunk(live)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (OSError, ssl.SSLError):
            pass
        finally:
            stream.close()


@dataclass(frozen=True)
class WireFault:
    """One injected answer: ``status`` with ``message`` (nothing applied), or 0: applied and never answered."""

    method: str
    path_suffix: str
    status: int
    reason: str
    message: str


class FakeKubernetes:
    """A fake EKS cluster: Kubernetes API over HTTPS, IAM-token authentication, deterministic controller."""

    def __init__(
        self,
        *,
        cluster_name: str = "skillancer-prod",
        tick_interval: float | None = 0.02,
        progress_deadline_ticks: int = 50,
        aws_credentials: Mapping[str, str] | None = None,
        static_token: str | None = None,
    ) -> None:
        self.cluster_name = cluster_name
        self.tick_interval = tick_interval
        self.store = Store(seed=cluster_name)
        self.controller = Controller(self.store, progress_deadline_ticks=progress_deadline_ticks)
        self.api = Api(self.store, server_address=lambda: f"127.0.0.1:{self.port}")
        self.static_token = static_token or secrets.token_urlsafe(24)
        self.authenticator = Authenticator(cluster_name, {self.static_token: "kubectl-admin"}, aws_credentials)
        self.requests: list[RecordedRequest] = []
        self.faults: list[WireFault] = []
        self.stopping = threading.Event()
        self.port = 0
        self.url = ""
        self.ca_data = ""
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        certificate = self_signed()
        self.ca_data = base64.b64encode(certificate.cert_pem).decode()
        self._server = _Server(self, certificate.server_context())
        self.port = self._server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.stopping.clear()
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serve.start()
        self._threads = [serve]
        if self.tick_interval:
            ticker = threading.Thread(target=self._tick_forever, args=(self.tick_interval,), daemon=True)
            ticker.start()
            self._threads.append(ticker)

    def stop(self) -> None:
        self.stopping.set()
        self.store.close_watchers()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> FakeKubernetes:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick_forever(self, interval: float, stop: threading.Event | None = None) -> None:
        while not self.stopping.wait(interval) and not (stop is not None and stop.is_set()):
            self.controller.tick()

    @contextmanager
    def ticking(self, interval: float = 0.02) -> Iterator[None]:
        """Run the controller in the background for a while (for a fake started with ``tick_interval=None``)."""
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick_forever, args=(interval, stop), daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join(timeout=5)

    def _record(
        self, method: str, path: str, query: dict[str, str], content_type: str, body: bytes, user: str, status: int
    ) -> None:
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode(errors="replace")
        self.requests.append(RecordedRequest(method, path, query, content_type, parsed, user, status))
        del self.requests[:-MAX_RECORDED_REQUESTS]

    def write_kubeconfig(self, path: str | Path, *, namespace: str = "default") -> Path:
        """A kubeconfig for real kubectl: this server, insecure-skip-tls-verify, the static token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": self.cluster_name, "cluster": {"server": self.url, "insecure-skip-tls-verify": True}}
            ],
            "users": [{"name": "fake-admin", "user": {"token": self.static_token}}],
            "contexts": [
                {
                    "name": self.cluster_name,
                    "context": {"cluster": self.cluster_name, "user": "fake-admin", "namespace": namespace},
                }
            ],
            "current-context": self.cluster_name,
        }
        target = Path(path)
        target.write_text(json.dumps(config, indent=2))
        return target

    # --- the cluster, from Python -------------------------------------------------------------------------

    def apply_deployment(
        self,
        namespace: str,
        name: str,
        *,
        image: str,
        replicas: int | None = None,
        change_cause: str | None = None,
        labels: Mapping[str, str] | None = None,
        container: str | None = None,
        strategy: Json | None = None,
    ) -> Json:
        """Create the Deployment, or set its (first) container's image like ``kubectl set image``; with
        ``change_cause`` also like ``kubectl annotate kubernetes.io/change-cause=...``. Goes through the same
        defaulting, validation and generation rules as API writes. Returns the stored Deployment."""
        with self.store.lock:
            if self.store.get("deployments", namespace, name) is None:
                selector = dict(labels or {"app": name})
                body: Json = {
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "labels": dict(selector),
                        **({"annotations": {"kubernetes.io/change-cause": change_cause}} if change_cause else {}),
                    },
                    "spec": {
                        "replicas": 3 if replicas is None else replicas,
                        "selector": {"matchLabels": selector},
                        "template": {
                            "metadata": {"labels": dict(selector)},
                            "spec": {"containers": [{"name": container or name, "image": image}]},
                        },
                        **({"strategy": strategy} if strategy else {}),
                    },
                }
                return self.api.create_deployment(namespace, body)

            def mutate(deployment: Json) -> Json:
                deployment["spec"]["template"]["spec"]["containers"][0]["image"] = image
                if replicas is not None:
                    deployment["spec"]["replicas"] = replicas
                if change_cause is not None:
                    deployment["metadata"].setdefault("annotations", {})["kubernetes.io/change-cause"] = change_cause
                return deployment

            return self.api.update_deployment(namespace, name, mutate)

    def delete_deployment(self, namespace: str, name: str) -> None:
        self.api.handle(Request("DELETE", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}", {}))

    def tick(self, count: int = 1) -> bool:
        """Advance the controller ``count`` steps by hand; True if the last step wrote anything."""
        wrote = False
        for _ in range(count):
            wrote = self.controller.tick()
        return wrote

    def settle(self, timeout: float = 5) -> None:
        """Tick until every Deployment is complete, paused or past its progress deadline, and nothing moves."""
        deadline = time.monotonic() + timeout
        while True:
            wrote = self.controller.tick()
            deployments = self.store.list("deployments")
            if not wrote and all(self.controller.is_settled(d) for d in deployments):
                return
            if time.monotonic() > deadline:
                pending = [d["metadata"]["name"] for d in deployments if not self.controller.is_settled(d)]
                raise TimeoutError(f"deployments did not settle within {timeout} s: {pending}")

    def deployment(self, namespace: str, name: str) -> Json:
        found = self.store.get("deployments", namespace, name)
        if found is None:
            raise KeyError(f"deployment {namespace}/{name} not found")
        return found

    def deployments(self, namespace: str | None = None) -> list[Json]:
        return self.store.list("deployments", namespace)

    def replicasets(self, namespace: str | None = None) -> list[Json]:
        return self.store.list("replicasets", namespace)

    def pods(self, namespace: str | None = None, selector: str | None = None) -> list[Json]:
        matches = parse_label_selector(selector)
        return [p for p in self.store.list("pods", namespace) if matches(p["metadata"].get("labels") or {})]

    def snapshot(self) -> Json:
        """Everything the cluster holds (objects, counters, faults, controller clocks) for :meth:`restore`."""
        with self.store.lock:
            return {
                "store": self.store.snapshot(),
                "controller": self.controller.snapshot(),
                "concurrent_writers": sorted(self.api.concurrent_writers),
            }

    def restore(self, snapshot: Json) -> None:
        """Put back a :meth:`snapshot` (of this or another fake); open watches are closed."""
        with self.store.lock:
            self.store.restore(snapshot["store"])
            self.controller.restore(snapshot["controller"])
            self.api.concurrent_writers = {(w[0], w[1]) for w in snapshot["concurrent_writers"]}

    # --- fault knobs --------------------------------------------------------------------------------------

    def answer_next(
        self, method: str, path_suffix: str, status: int, *, message: str = "injected fault", times: int = 1
    ) -> None:
        """The next ``times`` requests ``method`` to a path ending in ``path_suffix`` get ``status`` (a
        ``kind: Status`` body carrying ``message``) and change nothing: e.g. 500, 503, 429."""
        reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(status, "Failure")
        with self.store.lock:
            self.faults += [WireFault(method, path_suffix, status, reason, message) for _ in range(times)]

    def apply_next_without_answering(self, method: str, path_suffix: str) -> None:
        """The next such request is applied, then the connection drops before the answer (a lost response)."""
        with self.store.lock:
            self.faults.append(WireFault(method, path_suffix, 0, "", ""))

    def _take_fault(self, method: str, path: str) -> WireFault | None:
        with self.store.lock:
            for fault in self.faults:
                if fault.method == method and path.endswith(fault.path_suffix):
                    self.faults.remove(fault)
                    return fault
        return None

    def fail_image(self, image: str, reason: str = "ImagePullBackOff") -> None:
        """Pods that start with ``image`` never get ready: ImagePullBackOff, CrashLoopBackOff or Unschedulable."""
        if reason not in FAULTS:
            raise ValueError(f"reason must be one of {FAULTS}, not {reason!r}")
        with self.store.lock:
            self.controller.kubelet.failing[image] = reason

    def heal_image(self, image: str) -> None:
        with self.store.lock:
            self.controller.kubelet.failing.pop(image, None)

    def pause(self, namespace: str, name: str, paused: bool = True) -> Json:
        """``kubectl rollout pause`` (``paused=False``: resume)."""

        def mutate(deployment: Json) -> Json:
            deployment["spec"]["paused"] = paused
            if not paused:
                deployment["spec"].pop("paused")
            return deployment

        return self.api.update_deployment(namespace, name, mutate)

    def resume(self, namespace: str, name: str) -> Json:
        return self.pause(namespace, name, paused=False)

    def concurrent_write_before_next_patch(self, namespace: str, name: str) -> None:
        """Just before the next PATCH of this Deployment, another client writes it (its resourceVersion moves)."""
        with self.store.lock:
            self.api.concurrent_writers.add((namespace, name))
