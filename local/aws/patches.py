"""Every patch of private moto code, in one place (moto is pinned to 5.2.5 for this reason).

1. Lambda dispatch: ``LambdaSimpleBackend.invoke`` runs the function's real handler in-process, with the
   function's environment, and reports exceptions the way Lambda does (``x-amz-function-error`` and
   ``errorType`` = the exception class name), so ASL ``Retry``/``Catch`` match Python exception names.
2. Heartbeat race: a ``SendTaskSuccess/Failure`` that arrives while the ``.waitForTaskToken`` Lambda is still
   running is lost by moto 5.2.5 (the heartbeat endpoint is created after the outcome). Fixed by notifying the
   new heartbeat endpoint when the outcome is already there. ``tests/emulator`` reproduces the race.
3. Lost failure cause: moto 5.2.5's ``SendTaskFailure`` response handler drops the ``cause`` parameter, so a
   caught failure's ``$.error.Cause`` is null. Fixed by passing it through.
4. Heartbeat timeouts: moto 5.2.5 reports a ``.waitForTaskToken`` task whose heartbeat lapsed as
   ``States.Timeout``; AWS reports ``States.HeartbeatTimeout`` (the workflow escalates on it). Fixed.
5. Fast clock: Wait states and Retry intervals sleep ``wait_scale`` real seconds per emulated second; the
   timeouts of callback (``.waitForTaskToken``) tasks, their heartbeats included, ``timeout_scale``.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    HeartbeatEndpoint,
    HeartbeatTimeoutError,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.responses import StepFunctionResponse


@dataclass
class FastClock:
    """Real seconds slept per emulated second: ``wait_scale`` for Wait/Retry, ``timeout_scale`` for the
    timeouts and heartbeats of callback tasks (1.0 = real time)."""

    wait_scale: float = 0.0
    timeout_scale: float = 1.0


CLOCK = FastClock()
_INVOKE_LOCK = threading.RLock()
_INSTALLED = False


class LambdaContext:
    """What a handler sees as ``context`` (the attributes Powertools reads)."""

    def __init__(self, function: Any) -> None:
        self.function_name: str = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = function.function_arn
        self.memory_limit_in_mb: int = int(function.memory_size)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = int(function.timeout) * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.replace("/", ".").rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def run_handler(function: Any, body: Any) -> tuple[bytes, str | None]:
    """Run the function's handler with its environment applied; returns (payload, function error or None)."""
    event = json.loads(body) if body else {}
    with _INVOKE_LOCK:
        saved = dict(os.environ)
        os.environ.update({k: str(v) for k, v in function.environment_vars.items()})
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        try:
            result = _load_handler(function.handler)(event, LambdaContext(function))
            return json.dumps(result).encode(), None
        except Exception as error:  # reported to the caller exactly as Lambda reports it
            payload = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return json.dumps(payload).encode(), "Unhandled"
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _invoke(
    self: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    function = self.get_function(function_name, qualifier)
    if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
        threading.Thread(target=run_handler, args=(function, body), daemon=True).start()
        return b""
    payload, function_error = run_handler(function, body)
    if function_error:
        response_headers["x-amz-function-error"] = function_error
    return payload


def _setup_heartbeat_endpoint(original: Any) -> Any:
    def setup(self: CallbackEndpoint, heartbeat_seconds: int) -> HeartbeatEndpoint:
        endpoint: HeartbeatEndpoint = original(self, heartbeat_seconds)
        if self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    return setup


def _from_error(original: Any) -> Any:
    def from_error(self: StateTaskServiceCallback, env: Any, ex: Exception) -> FailureEvent:
        if not isinstance(ex, HeartbeatTimeoutError):
            return original(self, env, ex)
        error = StatesErrorNameType.StatesHeartbeatTimeout
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskTimedOutEventDetails=TaskTimedOutEventDetails(
                    resourceType=self._get_sfn_resource_type(),
                    resource=self._get_sfn_resource(),
                    error=error.to_name(),
                )
            ),
        )

    return from_error


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    self.stepfunction_backend.send_task_failure(  # type: ignore[call-arg]
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
    if wait_seconds > 0:
        env.program_state_event.wait(wait_seconds * CLOCK.wait_scale)


class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        import time

        time.sleep(seconds * CLOCK.wait_scale)


def _heartbeat_clear_and_wait(self: HeartbeatEndpoint) -> bool:
    with self._mutex:
        if self._next_heartbeat_event.is_set():
            self._next_heartbeat_event.clear()
            return True
    return self._next_heartbeat_event.wait(timeout=self._heartbeat_seconds * CLOCK.timeout_scale)


def _evaluate_with_timeout(original: Any) -> Any:
    def evaluate(self: ExecutionState, env: Any) -> Any:
        if isinstance(self, StateTaskServiceCallback) and self._is_integration_pattern():
            timeout = self.timeout
            if not getattr(timeout, "_scaled", False):
                evaluate_timeout = timeout.eval

                def scaled(env: Any) -> None:
                    evaluate_timeout(env)
                    env.stack.append(env.stack.pop() * CLOCK.timeout_scale)

                timeout.eval = scaled  # type: ignore[method-assign]
                timeout._scaled = True  # type: ignore[attr-defined]
        return original(self, env)

    return evaluate


def install_patches(clock: FastClock | None = None) -> FastClock:
    """Install every patch once per process; ``clock`` settings replace the current ones."""
    global _INSTALLED
    if clock is not None:
        CLOCK.wait_scale, CLOCK.timeout_scale = clock.wait_scale, clock.timeout_scale
    if _INSTALLED:
        return CLOCK
    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign]
    CallbackEndpoint.setup_heartbeat_endpoint = _setup_heartbeat_endpoint(  # type: ignore[method-assign]
        CallbackEndpoint.setup_heartbeat_endpoint
    )
    StateTaskServiceCallback._from_error = _from_error(StateTaskServiceCallback._from_error)  # type: ignore[method-assign]
    StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
    retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
    HeartbeatEndpoint.clear_and_wait = _heartbeat_clear_and_wait  # type: ignore[method-assign]
    ExecutionState._evaluate_with_timeout = _evaluate_with_timeout(  # type: ignore[method-assign]
        ExecutionState._evaluate_with_timeout
    )
    _INSTALLED = True
    return CLOCK
