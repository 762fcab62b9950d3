"""The embedded AWS emulator: moto with Step Functions execution and in-process Lambda handlers.

    with AwsEmulator(wait_scale=0.01) as aws:
        deployment = aws.deploy(template)
        ...

Facts this relies on (moto 5.2.5): boto3 clients created before the mock starts are intercepted too (moto
hooks botocore, not the client); backends are reset when the context ends, so two emulators in a row start
empty; only one may run at a time (the mock and the Lambda environment are process-wide).
With ``serve=True`` a ``ThreadedMotoServer`` also serves the same in-memory backends over HTTP, so another
process (a CLI, ``aws --endpoint-url``) sees the same resources.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
from moto import mock_aws

from local.aws.patches import FastClock, install_patches
from local.aws.template import Deployment, TemplateDeployer

REGION = "us-east-1"
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_RUNNING = threading.Lock()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AwsEmulator:
    def __init__(self, *, wait_scale: float = 0.0, timeout_scale: float = 1.0, serve: bool = False) -> None:
        self.clock = FastClock(wait_scale=wait_scale, timeout_scale=timeout_scale)
        self.serve = serve
        self.endpoint_url: str | None = None
        self._mock: Any = None
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> AwsEmulator:
        if not _RUNNING.acquire(blocking=False):
            raise RuntimeError("another AwsEmulator is running in this process")
        for key, value in FAKE_CREDENTIALS.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        install_patches(self.clock)
        # The interpreter logs every caught task failure at ERROR with its whole state tree; the history has it.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        if self.serve:
            from moto.server import ThreadedMotoServer

            port = _free_port()
            self._saved_env["MOTO_PORT"] = os.environ.get("MOTO_PORT")
            os.environ["MOTO_PORT"] = str(port)
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self._server.start()
            self.endpoint_url = f"http://127.0.0.1:{port}"
        self.sfn: Any = boto3.client("stepfunctions", region_name=REGION)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._server is not None:
                self._server.stop()
            self._mock.stop()
        finally:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _RUNNING.release()

    def deploy(
        self,
        template: dict[str, Any],
        *,
        stack_name: str = "RollbackPipeline",
        environment_overrides: dict[str, str] | None = None,
    ) -> Deployment:
        return TemplateDeployer(template, stack_name, REGION).deploy(environment_overrides)

    def execution_events(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.sfn.get_execution_history(
                executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def wait_for_execution(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            description: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL:
                return description
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {description['status']} after {timeout} s")
            time.sleep(0.01)

    def follow_execution(self, execution_arn: str, poll: float = 0.05) -> Iterator[dict[str, Any]]:
        """Yield history events as they appear, until the execution ends."""
        seen = 0
        while True:
            events = self.execution_events(execution_arn)
            yield from events[seen:]
            seen = len(events)
            if self.sfn.describe_execution(executionArn=execution_arn)["status"] in TERMINAL:
                events = self.execution_events(execution_arn)
                yield from events[seen:]
                return
            time.sleep(poll)
