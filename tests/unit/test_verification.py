"""Health verification over real HTTP against a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from functions.adapters.http_health import interpret, probe
from functions.errors import ServiceUnhealthy
from functions.logic.verification import verify

RESPONSES: dict[str, tuple[int, str]] = {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = RESPONSES.get(self.path, (404, "not found"))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "healthy"),
    [
        (200, json.dumps({"status": "healthy"}), True),
        (200, json.dumps({"status": "unhealthy"}), False),
        (503, json.dumps({"status": "healthy"}), False),
        (200, "API OK: healthy", True),
        (200, "unhealthy", False),
        (200, "<html>Skillancer</html>", False),
    ],
)
def test_probe_reads_status_like_the_runbook(server: str, status: int, body: str, healthy: bool) -> None:
    RESPONSES["/health"] = (status, body)
    assert probe(f"{server}/health").healthy is healthy


def test_unreachable_endpoint_is_unhealthy() -> None:
    check = probe("http://127.0.0.1:9/health", timeout=0.5)
    assert check.healthy is False
    assert check.status_code is None
    assert "unreachable" in check.detail


def test_verify_counts_attempts_and_gives_up_after_the_window() -> None:
    start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    sick = lambda url: interpret(url, 503, '{"status": "unhealthy"}')  # noqa: E731
    first = verify(["https://x/health"], None, sick, start, timedelta(seconds=60))
    assert (first.healthy, first.attempt, first.verified_at) == (False, 1, None)
    second = verify(["https://x/health"], first, sick, start + timedelta(seconds=30), timedelta(seconds=60))
    assert second.attempt == 2
    with pytest.raises(ServiceUnhealthy, match="still unhealthy after 3 checks over 60 s: https://x/health: HTTP 503"):
        verify(["https://x/health"], second, sick, start + timedelta(seconds=60), timedelta(seconds=60))


def test_verify_needs_every_endpoint_healthy() -> None:
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    answers = {"https://a/health": 200, "https://b/health": 503}
    probe_ = lambda url: interpret(url, answers[url], '{"status": "healthy"}')  # noqa: E731
    assert verify(list(answers), None, probe_, now, timedelta(seconds=60)).healthy is False
    answers["https://b/health"] = 200
    result = verify(list(answers), None, probe_, now, timedelta(seconds=60))
    assert result.healthy is True
    assert result.verified_at == now


def test_a_flapping_endpoint_needs_consecutive_healthy_samples() -> None:
    # Given an endpoint that answers healthy, unhealthy, then healthy twice
    start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    answers = iter([200, 503, 200, 200, 200])
    flapping = lambda url: interpret(url, next(answers), '{"status": "healthy"}')  # noqa: E731
    # When it is sampled every 10 s, three healthy samples in a row required
    results, previous = [], None
    for step in range(5):
        previous = verify(["https://x/health"], previous, flapping, start + timedelta(seconds=10 * step),
                          timedelta(seconds=300), required_samples=3)  # fmt: skip
        results.append((previous.healthy, previous.consecutive_healthy))
    # Then the single healthy answer did not pass; the third in a row did
    assert results == [(False, 1), (False, 0), (False, 1), (False, 2), (True, 3)]
    assert previous is not None and previous.verified_at == start + timedelta(seconds=40)


def test_a_malformed_reply_is_an_unhealthy_sample_not_an_error() -> None:
    # Given an endpoint that answers with a broken status line
    import socket

    listener = socket.create_server(("127.0.0.1", 0))

    def answer_garbage() -> None:
        connection, _ = listener.accept()
        connection.recv(4096)
        connection.sendall(b"NOT-HTTP garbage\r\n\r\n")
        connection.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    # When it is probed, Then the sample is unhealthy with the reason, and nothing raised
    check = probe(f"http://127.0.0.1:{listener.getsockname()[1]}/health", timeout=5)
    listener.close()
    assert check.healthy is False
    assert "bad reply: BadStatusLine" in check.detail
