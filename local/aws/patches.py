"""Every patch of private moto code, in one place (moto is pinned to 5.2.5 for this reason).

1. Lambda dispatch: ``LambdaSimpleBackend.invoke`` runs the function's real handler in-process, with the
   function's environment (seen by that thread only: :mod:`local.aws.environment`), and reports exceptions
   the way Lambda does (``x-amz-function-error`` and
   ``errorType`` = the exception class name), so ASL ``Retry``/``Catch`` match Python exception names.
2. Heartbeat race: a ``SendTaskSuccess/Failure`` that arrives while the ``.waitForTaskToken`` Lambda is still
   running is lost by moto 5.2.5 (the heartbeat endpoint is created after the outcome). Fixed by notifying the
   new heartbeat endpoint when the outcome is already there. ``tests/emulator`` reproduces the race.
3. Lost failure cause: moto 5.2.5's ``SendTaskFailure`` response handler drops the ``cause`` parameter, so a
   caught failure's ``$.error.Cause`` is null. Fixed by passing it through.
4. Heartbeat timeouts: moto 5.2.5 reports a ``.waitForTaskToken`` task whose heartbeat lapsed as
   ``States.Timeout``; AWS reports ``States.HeartbeatTimeout`` (the workflow escalates on it). Fixed.
5. Fast clock: Wait states and Retry intervals sleep ``wait_scale`` real seconds per emulated second and
   move a virtual clock forward by the whole interval (:meth:`FastClock.virtual_now` is the emulated time);
   ``Wait`` with ``Timestamp``/``TimestampPath`` counts from the virtual UTC time (moto compares a UTC
   timestamp with the *local* ``datetime.now()``). The timeouts of callback (``.waitForTaskToken``) tasks,
   their heartbeats included, sleep ``timeout_scale`` real seconds per emulated second and do not move the
   virtual clock: they wait for outside actors (people, tests) who live in real time.
6. Executions that have not built their environment yet: for a few milliseconds after ``StartExecution``
   an execution is RUNNING with ``exec_worker.env`` None. moto 5.2.5 then crashes (AttributeError, HTTP 500)
   in ``StopExecution`` of that execution (e.g. the emulator shutting down right after a start) and in
   ``SendTaskSuccess/Failure/Heartbeat`` (and the map-run calls) of *any* execution, because they scan every
   running execution's environment. Fixed: the scan skips them, and stopping waits (up to 2 s) for the
   environment, then stops it: an execution left running would go on after the mock stopped and call
   ``localhost:5000``.
   Also, ``StopExecution`` of an execution whose task waits for a token (or a heartbeat) left it RUNNING until
   that task's timeout (the waiting thread is not woken): stopping now wakes every callback of the
   execution, and it ends ABORTED at once, as on AWS (an error raised by the woken task no longer turns the
   stopped program into a failed one: ``Environment.set_error``/``set_timed_out`` keep a stop final).
7. Lambda invocations that bypass the backend's ``invoke`` (SNS -> Lambda subscriptions, the legacy
   ``InvokeAsync`` API, event source mappings) call ``LambdaFunction.invoke``, which needs Docker: with
   ``use_docker: False`` it dispatches in-process too.
8. SES v2 ``SendEmail`` with ``Content.Simple`` records only the HTML part (the text part and the configuration
   set are dropped): the whole request is kept on the recorded message (``message.request``) so the inbox shows
   both parts. The same patch point answers with the faults injected in :data:`local.aws.ses.FAULTS`.

9. CodeBuild ``StartBuild`` drops the build's variable and buildspec overrides and its idempotency token, and
   ``BatchGetBuilds`` reports every build SUCCEEDED at once: the builds are the stand-in's,
   :mod:`local.aws.codebuild` (ended as a test scripts them, or by running their commands here), read back with
   their overrides, phases and logs link as CodeBuild reports them.
10. ECS ``UpdateService`` with a new task definition starts no deployment, so no rollout ever completes: the
   deployments are the stand-in's, :mod:`local.aws.ecs` (a new PRIMARY deployment, completed after a few reads).

Patches are installed once per process (:func:`install_patches` is idempotent) and only act when moto runs
with ``lambda.use_docker: False``; the clock and the race-fix switch are read at call time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.cloudwatch.models import Statistics
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.config import default_user_config
from moto.core.responses import ActionResult, EmptyResult
from moto.ecs.models import EC2ContainerServiceBackend
from moto.sesv2.responses import SESV2Response
from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackEndpoint,
    HeartbeatEndpoint,
    HeartbeatTimeoutError,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from local.aws.codebuild import BUILDS as CODEBUILD_BUILDS
from local.aws.ecs import DEPLOYMENTS as ECS_DEPLOYMENTS
from local.aws.emf import metrics_from_output
from local.aws.environment import thread_environment
from local.aws.ses import FAULTS as SES_FAULTS


@dataclass
class FastClock:
    """Real seconds slept per emulated second: ``wait_scale`` for Wait/Retry, ``timeout_scale`` for the
    timeouts and heartbeats of callback tasks (1.0 = real time, 0.0 = no sleeping at all).

    Wait states and Retry intervals also move a virtual clock forward: after ``sleep(s)`` at least ``s``
    virtual seconds have passed since it began, however little real time it took. Concurrent sleeps overlap
    as they would in real time (two parallel one-hour Waits advance the clock by one hour); sequential ones
    add up. :meth:`virtual_now` is the emulated time (never behind the real time). At ``wait_scale`` 0 no sleep
    lasts long enough to overlap another, so parallel branches' Waits add up: the virtual time is then an
    upper bound.
    """

    wait_scale: float = 0.0
    timeout_scale: float = 1.0
    _offset: float = field(default=0.0, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def factor(self) -> float:
        """Alias of ``wait_scale``: real seconds slept per emulated second of Wait or Retry."""
        return self.wait_scale

    @property
    def offset_seconds(self) -> float:
        """How far the virtual clock runs ahead of the real one."""
        return self._offset

    def virtual_time(self) -> float:
        """Emulated POSIX timestamp."""
        return time.time() + self._offset

    def virtual_now(self) -> dt.datetime:
        """Emulated current time, UTC."""
        return dt.datetime.fromtimestamp(self.virtual_time(), tz=dt.UTC)

    def advance(self, seconds: float) -> None:
        """Jump the virtual clock forward (nothing sleeping is woken: this only changes the reported time)."""
        if seconds < 0:
            raise ValueError("the virtual clock only moves forward")
        with self._lock:
            self._offset += seconds

    def sleep(
        self,
        seconds: float,
        *,
        interrupt: threading.Event | None = None,
        is_running: Callable[[], bool] | None = None,
    ) -> bool:
        """Let ``seconds`` of emulated time pass, sleeping ``seconds * wait_scale`` for real.

        ``interrupt`` is an event pulsed when the caller's program state changes; the sleep then checks
        ``is_running`` and gives up (returns False, clock unchanged) when the execution stopped meanwhile.
        """
        if seconds <= 0:
            return True
        target = self.virtual_time() + seconds
        real_deadline = time.monotonic() + seconds * self.wait_scale
        while (remaining := real_deadline - time.monotonic()) > 0:
            if interrupt is None:
                time.sleep(remaining)
            else:
                interrupt.wait(remaining)
            if is_running is not None and not is_running():
                return False
        if is_running is not None and not is_running():
            return False
        with self._lock:
            self._offset = max(self._offset, target - time.time())
        return True


CLOCK = FastClock()
_INVOKE_LOCK = threading.RLock()
_INSTALLED = False
HEARTBEAT_RACE_FIX = True


class LambdaContext:
    """What a handler sees as ``context``: the attributes of AWS's Python context that handlers and Powertools
    read. ``get_remaining_time_in_millis`` counts down from the function's ``Timeout`` (not enforced)."""

    def __init__(self, function: Any) -> None:
        self.function_name: str = function.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = function.function_arn
        self.memory_limit_in_mb: int = int(function.memory_size)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.function_name}"
        self.log_stream_name = f"{dt.date.today():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = time.monotonic() + int(function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(handler: str) -> Any:
    module_name, _, attribute = handler.replace("/", ".").rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _lambda_environment(function: Any) -> dict[str, str]:
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.function_name}",
        "AWS_REGION": function.function_arn.split(":")[3],
        "_HANDLER": function.handler,
        **{k: str(v) for k, v in (function.environment_vars or {}).items()},
    }


def _cloudwatch() -> Any:
    import boto3

    return boto3.client("cloudwatch", region_name="us-east-1")


def run_handler(function: Any, body: Any) -> tuple[bytes, str | None]:
    """Run the function's handler with its environment applied; returns (payload, function error or None).

    The handler module is imported (first time) under the function's environment, so module-level reads of
    ``os.environ`` see it; later invocations reuse the imported module, as a warm Lambda does.
    """
    if isinstance(body, bytes | bytearray):
        body = body.decode()
    event = json.loads(body) if body else {}
    with (
        _INVOKE_LOCK,
        thread_environment().of_function(_lambda_environment(function)),
        metrics_from_output(_cloudwatch),
    ):
        try:
            result = _load_handler(function.handler)(event, LambdaContext(function))
            try:
                return json.dumps(result).encode(), None
            except (TypeError, ValueError) as error:
                marshal = {"errorType": "Runtime.MarshalError", "errorMessage": f"Unable to marshal response: {error}"}
                return json.dumps(marshal).encode(), "Unhandled"
        except Exception as error:  # reported to the caller exactly as Lambda reports it
            payload = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return json.dumps(payload).encode(), "Unhandled"


def _invoke(
    self: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    function = self.get_function(function_name, qualifier)
    if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
        threading.Thread(target=run_handler, args=(function, body), daemon=True).start()
        return b""
    if (headers or {}).get("X-Amz-Invocation-Type") == "DryRun":
        return b""
    payload, function_error = run_handler(function, body)
    if function_error:
        response_headers["x-amz-function-error"] = function_error
    return payload


def _function_invoke(original: Any) -> Any:
    """``LambdaFunction.invoke`` (SNS subscriptions, InvokeAsync, event source mappings): in-process too."""

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
        if default_user_config.get("lambda", {}).get("use_docker", True) is not False:
            return original(self, body, request_headers, response_headers)
        payload, function_error = run_handler(self, body)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        return payload

    return invoke


def _setup_heartbeat_endpoint(original: Any) -> Any:
    def setup(self: CallbackEndpoint, heartbeat_seconds: int) -> HeartbeatEndpoint:
        endpoint: HeartbeatEndpoint = original(self, heartbeat_seconds)
        if HEARTBEAT_RACE_FIX and self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    return setup


@contextmanager
def heartbeat_race_fix_disabled() -> Iterator[None]:
    """Run a block on moto's own heartbeat behaviour (the canary test shows the race is still there)."""
    global HEARTBEAT_RACE_FIX
    previous, HEARTBEAT_RACE_FIX = HEARTBEAT_RACE_FIX, False
    try:
        yield
    finally:
        HEARTBEAT_RACE_FIX = previous


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


def _get_executions(original: Any) -> Any:
    def get_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list[Any]:
        executions: list[Any] = original(self, execution_status)
        return [e for e in executions if e.exec_worker is not None and e.exec_worker.env is not None]

    return get_executions


def _worker_stop(original: Any) -> Any:
    def stop(self: ExecutionWorker, stop_date: dt.datetime, error: str | None, cause: str | None) -> None:
        deadline = time.monotonic() + 2.0
        while self.env is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if self.env is None:
            return
        original(self, stop_date, error, cause)
        # Wake the tasks waiting for a token or a heartbeat: they see the stop and the execution ends ABORTED.
        for endpoint in list(self.env.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()
        # ...and let StopExecution return once the status reads ABORTED (a running handler may delay it: 1 s max).
        execution = getattr(self._execution_communication, "execution", None)
        deadline = time.monotonic() + 1.0
        while execution is not None and execution.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.002)

    return stop


def _keep_stopped(original: Any) -> Any:
    def set_state(self: Environment, *args: Any, **kwargs: Any) -> None:
        if isinstance(self.program_state(), ProgramStopped):
            return
        original(self, *args, **kwargs)

    return set_state


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    self.stepfunction_backend.send_task_failure(  # type: ignore[call-arg]
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
    CLOCK.sleep(wait_seconds, interrupt=env.program_state_event, is_running=env.is_running)


def _timestamp_wait_seconds(self: Timestamp, env: Any) -> int:
    """Seconds until the Wait's timestamp, counted from the virtual UTC time."""
    self.string.eval(env=env)
    timestamp_text: str = env.stack.pop()
    timestamp = self._from_timestamp_string(timestamp=timestamp_text)
    if timestamp is None:
        raise FailureEventException(self._create_failure_event(env, timestamp_text))
    return int((timestamp.replace(tzinfo=dt.UTC) - CLOCK.virtual_now()).total_seconds())


class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        CLOCK.sleep(seconds)


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


def _sesv2_send_email(original: Any) -> Any:
    def send_email(self: SESV2Response) -> str:
        request = json.loads(self.body)
        destination = request.get("Destination") or {}
        SES_FAULTS.raise_if_injected([a for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
                                      for a in destination.get(kind, [])])  # fmt: skip
        answer: str = original(self)
        message_id = json.loads(answer)["MessageId"]
        for message in reversed(self.sesv2_backend.core_backend.sent_messages):
            if message.id == message_id:
                message.request = request
                break
        return answer

    return send_email


def _codebuild_start_build(original: Any) -> Any:
    def start_build(self: CodeBuildResponse) -> Any:
        project, token = self._get_param("projectName"), self._get_param("idempotencyToken")
        backend = self.codebuild_backend
        same = CODEBUILD_BUILDS.same_token(project, token)
        if same is not None:  # the same start again (an SDK retry): the same build
            return ActionResult({"build": next(b for b in backend.build_metadata_history[project] if b["id"] == same)})
        answer = original(self)
        CODEBUILD_BUILDS.begin(
            backend.build_metadata_history[project][-1],
            project_variables=backend.codebuild_projects[project]
            .project_metadata["environment"]
            .get("environmentVariables")
            or [],
            overrides=self._get_param("environmentVariablesOverride") or [],
            buildspec=self._get_param("buildspecOverride"),
            token=token,
            region=self.region,
        )
        return answer

    return start_build


def _codebuild_batch_get_builds(self: CodeBuildBackend, ids: list[str]) -> list[dict[str, Any]]:
    found = []
    for history in self.build_metadata_history.values():
        for build in history:
            if build["id"] in ids:
                CODEBUILD_BUILDS.report(build)
                found.append(build)
    return found


def _ecs_update_service(original: Any) -> Any:
    def update_service(self: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Any:
        cluster = service_properties.get("cluster", "default")
        name = str(service_properties.get("service", "")).split("/")[-1]
        before = self._get_service(cluster, name).task_definition
        service = original(self, service_properties)
        ECS_DEPLOYMENTS.begin(service, before)
        return service

    return update_service


def _ecs_describe_services(original: Any) -> Any:
    def describe_services(self: EC2ContainerServiceBackend, cluster_str: str, names: list[str]) -> Any:
        found, failures = original(self, cluster_str, names)
        for service in found:
            ECS_DEPLOYMENTS.report(service)
        return found, failures

    return describe_services


def _statistics_with_percentiles(original: Any) -> Any:
    """CloudWatch's extended statistics (``p95``, ``p99.9``) over a period's datapoints, nearest-rank: moto knows
    only the five basic statistics and returns None for the others."""

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        match = re.fullmatch(r"p(\d{1,2}(?:\.\d+)?)", stat)
        values = sorted(self.metric_single_values_list)
        if match is None or not values:
            return original(self, stat)
        rank = max(1, math.ceil(float(match.group(1)) / 100 * len(values)))
        return values[rank - 1]

    return get_statistics_for_type


_VALID_DEFINITIONS: set[str] = set()


def _validate_definition_once(original: Any) -> Any:
    """moto parses every definition it is given to validate it, then throws the parse away (~0.4 s each with its
    pure-Python ANTLR parser); the emulators deploy the same definitions for every test. A definition that parsed
    once is valid the next time too."""

    def validate(definition: str) -> None:
        if definition not in _VALID_DEFINITIONS:
            original(definition=definition)
            _VALID_DEFINITIONS.add(definition)

    return staticmethod(validate)


def _patch_table() -> list[tuple[Any, str, Callable[[Any], Any]]]:
    """(owner, attribute, make replacement from the original): every patch point, in install order."""
    return [
        (LambdaSimpleBackend, "invoke", lambda _: _invoke),
        (LambdaFunction, "invoke", _function_invoke),
        (CallbackEndpoint, "setup_heartbeat_endpoint", _setup_heartbeat_endpoint),
        (StateTaskServiceCallback, "_from_error", _from_error),
        (StepFunctionResponse, "send_task_failure", lambda _: _send_task_failure),
        (StepFunctionsParserBackend, "_get_executions", _get_executions),
        (StepFunctionsParserBackend, "_validate_definition", _validate_definition_once),
        (ExecutionWorker, "stop", _worker_stop),
        (Environment, "set_error", _keep_stopped),
        (Environment, "set_timed_out", _keep_stopped),
        (WaitFunction, "_wait_interval", lambda _: _wait_interval),
        (Timestamp, "_get_wait_seconds", lambda _: _timestamp_wait_seconds),
        (retrier_decl, "time", lambda _: _ScaledTime()),
        (HeartbeatEndpoint, "clear_and_wait", lambda _: _heartbeat_clear_and_wait),
        (ExecutionState, "_evaluate_with_timeout", _evaluate_with_timeout),
        (SESV2Response, "send_email", _sesv2_send_email),
        (Statistics, "get_statistics_for_type", _statistics_with_percentiles),
        (CodeBuildResponse, "start_build", _codebuild_start_build),
        (CodeBuildBackend, "batch_get_builds", lambda _: _codebuild_batch_get_builds),
        (EC2ContainerServiceBackend, "update_service", _ecs_update_service),
        (EC2ContainerServiceBackend, "describe_services", _ecs_describe_services),
    ]


# "Owner.attribute" -> moto's original, for canary tests that show a bug is still there (see moto_original).
ORIGINALS: dict[str, Any] = {}


def install_patches(fast_clock: FastClock | None = None) -> FastClock:
    """Install every patch once per process and make ``fast_clock`` the active clock (the object itself: its
    ``virtual_now()`` is the emulated time). ``None``: real time (Waits, retries and timeouts sleep for real).
    Returns the active clock."""
    global _INSTALLED, CLOCK
    CLOCK = fast_clock if fast_clock is not None else FastClock(wait_scale=1.0, timeout_scale=1.0)
    if _INSTALLED:
        return CLOCK
    for owner, name, make in _patch_table():
        original = vars(owner)[name]
        ORIGINALS[f"{owner.__name__.rsplit('.', 1)[-1]}.{name}"] = original
        setattr(owner, name, make(getattr(owner, name)))
    _INSTALLED = True
    return CLOCK


@contextmanager
def moto_original(*names: str) -> Iterator[None]:
    """Put moto's original ``Owner.attribute`` back for a block (canary tests: is the bug still there?).

    Process-wide: only for tests that run one execution at a time.
    """
    owners = {f"{owner.__name__.rsplit('.', 1)[-1]}.{name}": owner for owner, name, _ in _patch_table()}
    patched = {name: vars(owners[name])[name.split(".", 1)[1]] for name in names}
    try:
        for name in names:
            setattr(owners[name], name.split(".", 1)[1], ORIGINALS[name])
        yield
    finally:
        for name, replacement in patched.items():
            setattr(owners[name], name.split(".", 1)[1], replacement)
