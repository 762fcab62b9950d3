"""The embedded AWS emulator: moto with Step Functions execution and in-process Lambda handlers.

    with AwsEmulator(wait_scale=0.01) as aws:
        deployment = aws.deploy(template)
        ...

Facts this relies on (moto 5.2.5, each checked by ``tests/emulator/test_emulator.py``):

- A boto3 client created *before* the emulator starts is intercepted too, provided ``moto`` was imported
  before the client was created: moto registers its stubber in botocore's ``BUILTIN_HANDLERS`` at import
  and switches it on/off globally, so it hooks every client built after the import. Such a client keeps
  its credentials (moto accepts any). After the emulator stops the same client talks to real AWS again.
- State is isolated between two consecutive emulators in one process: the mock resets every backend when it
  stops (and when it starts). Executions still running at exit are stopped first, so their worker threads
  cannot wake up later and call handlers against the next emulator's backends.
- Two emulators never run at once: the mock, ``os.environ`` (credentials, Lambda environments) and the moto
  patches are process-wide; entering a second one raises ``RuntimeError``.

With ``serve=True`` a ``ThreadedMotoServer`` on 127.0.0.1 (a free port, ``endpoint_url``) serves the same
in-memory backends over HTTP, so another process (a CLI, ``aws --endpoint-url``) sees the same resources.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
from moto import mock_aws

from local.aws.codebuild import BUILDS as CODEBUILD_BUILDS
from local.aws.ecs import DEPLOYMENTS as ECS_DEPLOYMENTS
from local.aws.patches import FastClock, install_patches
from local.aws.ses import FAULTS as SES_FAULTS
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
    """moto with executing Step Functions, in-process Lambda handlers and a fast clock (a context manager).

    ``wait_scale``: real seconds per emulated second of Wait states and Retry intervals (0.0: instant; the
    virtual clock, :meth:`virtual_now`, moves by the full interval). ``timeout_scale``: the same for the
    ``TimeoutSeconds``/``HeartbeatSeconds`` of callback tasks (1.0: real time). ``serve``: also serve the
    backends over HTTP at :attr:`endpoint_url`.
    """

    def __init__(self, *, wait_scale: float = 0.0, timeout_scale: float = 1.0, serve: bool = False) -> None:
        self.clock = FastClock(wait_scale=wait_scale, timeout_scale=timeout_scale)
        self.serve = serve
        self.endpoint_url: str | None = None
        self._mock: Any = None
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_log_level = logging.NOTSET

    def __enter__(self) -> AwsEmulator:
        if not _RUNNING.acquire(blocking=False):
            raise RuntimeError("another AwsEmulator is running in this process")
        try:
            install_patches(self.clock)
            SES_FAULTS.clear()  # faults injected for an earlier emulator do not carry over
            CODEBUILD_BUILDS.clear()  # so do builds and their scripts
            ECS_DEPLOYMENTS.clear()
            # The interpreter logs every caught task failure at ERROR with its whole state tree; the history has it.
            parser_log = logging.getLogger("moto.stepfunctions.parser")
            self._saved_log_level = parser_log.level
            parser_log.setLevel(logging.CRITICAL)
            self._mock = mock_aws(config=MOTO_CONFIG)
            self._mock.start()
            # After the mock starts (it sets credentials of its own, and restores the originals when it stops).
            self._set_env(FAKE_CREDENTIALS)
            if self.serve:
                from moto.server import ThreadedMotoServer

                port = _free_port()
                # The interpreter calls back into the server on MOTO_PORT when a request is not intercepted.
                self._set_env({"MOTO_PORT": str(port)})
                self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
                self._server.start()
                self.endpoint_url = f"http://127.0.0.1:{port}"
            self.sfn: Any = boto3.client("stepfunctions", region_name=REGION)
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._teardown()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _stop_running_executions(self, grace: float = 2.0) -> None:
        """Abort every running execution and give its worker thread ``grace`` seconds to wind down."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        stopped = []
        for account in list(stepfunctions_parser_backends.values()):
            for backend in list(account.values()):
                for machine in list(backend.state_machines):
                    for execution in list(machine.executions):
                        if execution.status != "RUNNING":
                            continue
                        try:
                            execution.stop(stop_date=dt.datetime.now(dt.UTC), error=None, cause=None)
                            stopped.append(execution)
                        except Exception:  # never let a half-started execution break the teardown
                            arn = getattr(execution, "exec_arn", "?")
                            logging.getLogger(__name__).exception("could not stop %s", arn)
        deadline = time.monotonic() + grace
        while any(e.status == "RUNNING" for e in stopped) and time.monotonic() < deadline:
            time.sleep(0.005)

    def _teardown(self) -> None:
        try:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._mock is not None:
                self._stop_running_executions()
        finally:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_env.clear()
            try:
                if self._mock is not None:
                    self._mock.stop()
                    self._mock = None
            finally:
                logging.getLogger("moto.stepfunctions.parser").setLevel(self._saved_log_level)
                self.endpoint_url = None
                _RUNNING.release()

    def virtual_now(self) -> dt.datetime:
        """The emulated time: real time plus every Wait and Retry interval the fast clock skipped."""
        return self.clock.virtual_now()

    def deploy(
        self,
        template: dict[str, Any],
        *,
        stack_name: str = "RollbackPipeline",
        environment_overrides: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Deployment:
        """Create the template's resources in moto (see ``template.py``); ``environment_overrides`` are added to
        every function's environment variables, ``parameters`` override the template parameters' defaults."""
        return TemplateDeployer(template, stack_name, REGION, parameters).deploy(environment_overrides)

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
        """Poll until the execution ends; returns ``describe_execution``. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            description: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL:
                return description
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {description['status']} after {timeout} s")
            time.sleep(0.01)

    def follow_execution(
        self, execution_arn: str, poll: float = 0.05, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield history events as they appear, until the execution ends (TimeoutError after ``timeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = 0
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still running after {timeout} s")
            events = self.execution_events(execution_arn)
            yield from events[seen:]
            seen = len(events)
            if self.sfn.describe_execution(executionArn=execution_arn)["status"] in TERMINAL:
                events = self.execution_events(execution_arn)
                yield from events[seen:]
                return
            time.sleep(poll)
