"""A local stand-in for API Gateway's REST proxy integration in front of the approval page function.

It turns each HTTP request into the same proxy event API Gateway sends and invokes the page function through
(moto's) Lambda API, so a browser, a test or the drill's scripted approver drives the real handler over HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

STAGE = "v1"


class ApprovalGateway:
    """``base_url`` is known before the page function exists (the stack is synthesized with it)."""

    def __init__(self) -> None:
        self.function_name: str | None = None
        self.lambda_client: Any = None
        self.requests: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gateway._forward(self, "GET")

            def do_POST(self) -> None:
                gateway._forward(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="approval-gateway"
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{STAGE}/"

    def connect(self, lambda_client: Any, function_name: str) -> None:
        self.lambda_client = lambda_client
        self.function_name = function_name

    def start(self) -> ApprovalGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ApprovalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _forward(self, http: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(http.path)
        path = parts.path.removeprefix(f"/{STAGE}")
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0)).decode() if method == "POST" else None
        segments = path.strip("/").split("/")
        if segments == ["auth", "callback"] and method == "GET":
            resource, path_parameters = "/auth/callback", None  # the sign-in's return (approver_sign_in)
        elif len(segments) == 2 and segments[0] == "approvals":
            resource, path_parameters = "/approvals/{approval_id}", {"approval_id": segments[1]}
        else:
            resource, path_parameters = "", None
        if not resource or self.function_name is None:
            self._reply(http, 404, {"Content-Type": "text/plain"}, "Not Found")
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        event = {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": dict(http.headers.items()),
            "multiValueHeaders": {k: [v] for k, v in http.headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
            "pathParameters": path_parameters,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": http.client_address[0], "userAgent": http.headers.get("User-Agent")},
            },
            "body": body,
            "isBase64Encoded": False,
        }
        self.requests.append({"method": method, "path": path, "query": parts.query})
        response = self.lambda_client.invoke(FunctionName=self.function_name, Payload=json.dumps(event).encode())
        result = json.loads(response["Payload"].read())
        if "FunctionError" in response:
            self._reply(http, 502, {"Content-Type": "text/plain"}, "Bad Gateway")
            return
        payload = result.get("body") or ""
        text = base64.b64decode(payload).decode() if result.get("isBase64Encoded") else payload
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = values[-1]
        self._reply(http, int(result.get("statusCode", 200)), headers, text)

    @staticmethod
    def _reply(http: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: str) -> None:
        data = body.encode()
        http.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                http.send_header(name, value)
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
