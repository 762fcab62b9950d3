"""Benchmarks (``make bench``), printed as a table. Speed and size goals live here, never in tests.

- pipeline overhead per drill: an approved kubernetes_app rollback on the emulators with emulated waits
  taking no time (so what remains is the pipeline's own work: ASL interpretation, handlers, AWS and
  Kubernetes API calls, approvals over HTTP), median of several runs
- state transitions per app rollback
- intake per alarm event in a storm
- cold starts, the normal case in production (rollbacks are rare, so nearly every step runs cold): every Lambda
  function of the synthesized stack as a NEW PROCESS, importing its handler and making one real call against
  the emulators, beside real kubectl's ``rollout undo`` + ``rollout status`` processes on the same fake-cluster
  state; and each handler module's import against the import of the libraries it uses
- the functions' asset size (bundled for arm64 Lambda with pip)

Cold starts run the way Lambda runs them: ``functions/`` copied as the asset ships it (no bytecode), the
function's environment from the template, the Lambda variables (``LAMBDA_TASK_ROOT``, a trace header: the
Powertools Tracer is on and patches as in production, its segments go to a local UDP port), AWS calls to the
emulators (moto served over HTTP). A cold start is the time from spawning the process to the handler's response
(interpreter start, imports, the call; not the interpreter's exit, which Lambda does not wait for). Timings are
the fastest of several new processes (this machine is shared: the fastest is the least disturbed); the drill's
overhead is a median. Lambda allocates CPU in proportion to memory (1,769 MB is one vCPU), so at 256-512 MB the
same work can take several times longer there: the ratios are what carry over.

``python -m local.bench [drill|intake|cold|asset ...]`` runs only those sections.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.synth import PROJECT_ROOT

Row = tuple[str, str, str]

WAIT_SCALE = 0.01  # real seconds per emulated second in Wait states and retries
COLD_ROUNDS = 5  # new processes per function
IMPORT_RUNS = 9  # new processes per import measurement
KUBECTL_RUNS = 2  # kubectl undo + status runs per round, on the seeded state
NAMESPACE = "production"
ROLL_BACK_FUNCTION = "FunctionsKubernetesAppRollBackDeployment"
CHECK_ROLLOUT_FUNCTION = "FunctionsKubernetesAppCheckRollout"
RATIO_TARGET = 1.2


# --- the pipeline's drill ------------------------------------------------------------------------------------


def _wait_seconds_by_state() -> dict[str, int]:
    from functions.rollbacks.registry import ROLLBACK_TYPES
    from stacks.definitions import assemble_file

    states: dict[str, Any] = {}
    pending = [assemble_file(ROLLBACK_TYPES["kubernetes_app"].asl_part)["States"]]
    while pending:
        for name, state in pending.pop().items():
            states[name] = state
            for nested in ("ItemProcessor", "Iterator"):
                if nested in state:
                    pending.append(state[nested]["States"])
            pending.extend(branch["States"] for branch in state.get("Branches", []))
    return {name: int(state["Seconds"]) for name, state in states.items() if "Seconds" in state}


def emulated_wait_seconds(events: list[dict[str, Any]]) -> float:
    """Real time the execution spent in Wait states (their seconds, scaled by the fast clock)."""
    seconds = _wait_seconds_by_state()
    waits = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "WaitStateEntered"]
    return sum(seconds.get(name, 0) for name in waits) * WAIT_SCALE


def run_drill(pipeline: Any, name: str) -> tuple[str, float]:
    """One approved rollback of both deployments; returns the execution and its wall time."""
    from local import approver
    from local.pipeline import rollback_input

    started = time.perf_counter()
    execution = pipeline.start(rollback_input(), name=name)
    pipeline.wait_for_state(execution, "Request approval", timeout=60)
    pipeline.approval_requests(count=3, timeout=60)
    for email in ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"):
        approver.decide(pipeline.link_for(email), "approve")
    result = pipeline.wait(execution, timeout=120)
    assert result["status"] == "SUCCEEDED", result
    return execution, time.perf_counter() - started


def bench_drill(runs: int = 3) -> list[Row]:
    from local.pipeline import LocalPipeline
    from local.synth import synthesize

    synthesized = synthesize()
    durations, transitions = [], []
    for index in range(runs):
        with LocalPipeline(synthesized, wait_scale=WAIT_SCALE) as pipeline:
            execution, elapsed = run_drill(pipeline, f"bench-{index}")
            events = pipeline.aws.execution_events(execution)
            # Map iterations wait in parallel: count the waits of one deployment (the longest path)
            durations.append(elapsed - emulated_wait_seconds(events) / 2)
            transitions.append(len(pipeline.states_entered(execution)))
    return [
        (
            "pipeline overhead per app rollback, approvals included, emulated waits excluded",
            f"{statistics.median(durations):.2f}",
            "s",
        ),
        ("state transitions per app rollback (2 deployments)", str(statistics.median(transitions)), "states"),
    ]


def bench_intake(events: int = 500) -> list[Row]:
    """Intake per alarm event in a storm, through moto's Lambda API: classify, incident write,
    start or attach."""
    from local.pipeline import LocalPipeline
    from local.synth import synthesize
    from tests.support.events import alarm_state_change

    with LocalPipeline(synthesize(), wait_scale=WAIT_SCALE) as pipeline:
        started = time.perf_counter()
        for index in range(events):
            minute = index // 10
            pipeline.fire_alarm(
                alarm_state_change(
                    name=f"skillancer-api-5xx-{index % 10}",
                    at=f"2026-11-28T03:{minute % 60:02d}:{minute // 60:02d}.000Z",
                )
            )
        per_event = (time.perf_counter() - started) / events
    return [(f"intake per alarm event (storm of {events} into one incident)", f"{per_event * 1000:.1f}", "ms")]


# --- cold starts ---------------------------------------------------------------------------------------------

# Run in the new process: import the handler, make the one call, report (a file: the handler logs to stdout).
COLD_CHILD = r"""
import importlib, json, os, sys, time, traceback, uuid
t0 = time.perf_counter()
module_name, _, attribute = os.environ["_HANDLER"].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
t1 = time.perf_counter()


class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    invoked_function_arn = os.environ["BENCH_FUNCTION_ARN"]
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = str(uuid.uuid4())
    log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    log_stream_name = "bench/[$LATEST]cold"
    identity = None
    client_context = None

    def get_remaining_time_in_millis(self):
        return 30000


event = json.loads(os.environ["BENCH_EVENT"])
try:
    payload, error = json.dumps(handler(event, Context())), None
except Exception as exc:
    payload = json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                          "stackTrace": traceback.format_exception(exc)[-5:]})
    error = "Unhandled"
t2 = time.perf_counter()
with open(os.environ["BENCH_RESULT"], "w") as out:
    json.dump({"finished": time.time(), "import": t1 - t0, "call": t2 - t1, "payload": payload, "error": error}, out)
"""

IMPORT_CHILD = "import time\nt = time.perf_counter()\n{statements}\nprint(time.perf_counter() - t)\n"


@dataclass(frozen=True)
class ColdStart:
    total: float  # spawn -> response written
    imported: float
    call: float
    error: str | None  # the errorType the handler answered with, if any


@dataclass(frozen=True)
class Invocation:
    function: Any  # moto's LambdaFunction: name, ARN, handler, memory, environment
    event: str


@dataclass
class LambdaSandbox:
    """What a function's process sees in Lambda: the asset as the stack bundles it (the pinned dependencies, the
    ``functions`` package, unchecked-hash byte code) but with this machine's wheels, the Lambda variables, X-Ray on
    (segments to a local UDP port nobody reads)."""

    root: Path
    xray_port: int

    @classmethod
    @contextmanager
    def create(cls) -> Iterator[LambdaSandbox]:
        from stacks.constructs.bundling import bundle, host_platform

        with (
            tempfile.TemporaryDirectory(prefix="bench-asset-") as root,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as xray,
        ):
            bundle(Path(root), host_platform())
            xray.bind(("127.0.0.1", 0))
            yield cls(Path(root), int(xray.getsockname()[1]))

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(self.root),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{self.xray_port}",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "_X_AMZN_TRACE_ID": f"Root={trace_id};Parent={uuid.uuid4().hex[:16]};Sampled=1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            **extra,
        }

    def run(self, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code], cwd=self.root, env=self.environment(env), capture_output=True, text=True
        )

    def _import_once(self, statements: str) -> float:
        done = self.run(IMPORT_CHILD.format(statements=statements), {})
        if done.returncode != 0:
            raise RuntimeError(f"{statements!r} failed: {done.stderr[-2000:]}")
        return float(done.stdout.strip().splitlines()[-1])

    def import_seconds(self, statements: str, runs: int = IMPORT_RUNS) -> float:
        """The fastest of ``runs`` new processes running ``statements``."""
        return min(self._import_once(statements) for _ in range(runs))

    def import_seconds_pair(self, first: str, second: str, runs: int = IMPORT_RUNS) -> tuple[float, float]:
        """Both, alternating (so that a busy moment of the machine hits both alike)."""
        samples: tuple[list[float], list[float]] = ([], [])
        for _ in range(runs):
            samples[0].append(self._import_once(first))
            samples[1].append(self._import_once(second))
        return min(samples[0]), min(samples[1])

    def cold_start(self, invocation: Invocation, endpoint_url: str) -> ColdStart:
        """The function in a new process, its handler called once with the event, AWS calls to the emulators."""
        from local.aws.emulator import FAKE_CREDENTIALS

        function = invocation.function
        variables = {k: str(v) for k, v in (function.environment_vars or {}).items()}
        variables.pop("POWERTOOLS_TRACE_DISABLED", None)  # on in production: its patching is part of a cold start
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            env = {
                **FAKE_CREDENTIALS,
                **variables,
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.function_name}",
                "_HANDLER": function.handler,
                "BENCH_FUNCTION_ARN": function.function_arn,
                "BENCH_EVENT": invocation.event or "{}",
                "BENCH_RESULT": result.name,
            }
            spawned = time.time()
            done = self.run(COLD_CHILD, env)
            try:
                report = json.loads(Path(result.name).read_text())
            except ValueError:
                raise RuntimeError(f"{function.function_name} did not answer: {done.stderr[-3000:]}") from None
        error = json.loads(report["payload"]).get("errorType") if report["error"] else None
        return ColdStart(report["finished"] - spawned, report["import"], report["call"], error)


def display_name(logical_id: str) -> str:
    """``FunctionsKubernetesAppPlanD6C41ECE`` -> ``FunctionsKubernetesAppPlan`` (without CDK's hash)."""
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


@contextmanager
def recording(names: dict[str, str]) -> Iterator[dict[str, Invocation]]:
    """The first invocation of each function (by display name, in the order they happen) while in the block."""
    from local.aws import patches

    original = patches.run_handler
    recorded: dict[str, Invocation] = {}
    lock = threading.Lock()

    def run_handler(function: Any, body: Any) -> tuple[bytes, str | None]:
        event = body.decode() if isinstance(body, bytes | bytearray) else str(body or "")
        with lock:
            recorded.setdefault(names.get(function.function_name, function.function_name), Invocation(function, event))
        return original(function, body)

    patches.run_handler = run_handler
    try:
        yield recorded
    finally:
        patches.run_handler = original


def release_lock(pipeline: Any, service: str = "skillancer", environment: str = "production") -> None:
    table = pipeline.deployment.table_name("StateLocks")
    pipeline.dynamodb.delete_item(TableName=table, Key={"lock_key": {"S": f"{service}#{environment}"}})


def stop_executions(sfn: Any) -> None:
    for machine in sfn.list_state_machines()["stateMachines"]:
        running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in running["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"])


def kubectl_undo_and_status(kube: Any, kubeconfig: str, deployment: str) -> float:
    """``kubectl rollout undo`` then ``kubectl rollout status --watch=false`` (one evaluation, as the product's
    CheckRollout step does): the two processes' wall time."""
    from local.kube.kubectl import kubectl_path

    started = time.perf_counter()
    for command in (["rollout", "undo"], ["rollout", "status", "--watch=false"]):
        subprocess.run(
            [str(kubectl_path()), "--kubeconfig", kubeconfig, *command, f"deployment/{deployment}"],
            check=True,
            capture_output=True,
        )
    elapsed = time.perf_counter() - started
    image = kube.deployment(NAMESPACE, deployment)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":v1.0.0-rc.5"), image
    return elapsed


@dataclass
class ColdRuns:
    functions: dict[str, str]  # display name -> handler, every function of the template
    cold: dict[str, list[ColdStart]] = field(default_factory=dict)
    kubectl: list[float] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # display name -> what the call was
    deployment: str = ""  # the one the recorded RollBackDeployment event rolls back (and kubectl too)


def cold_runs(sandbox: LambdaSandbox, rounds: int) -> ColdRuns:
    """A drill on the emulators records the first event of each function; then, with nothing else running, each
    round replays them in order, each function in a new process (the Kubernetes steps, like kubectl just
    before them, on the seeded cluster state); intake gets a fresh alarm each round."""
    from moto.awslambda_simple.models import lambda_simple_backends as lambda_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    from local.aws.emulator import REGION
    from local.pipeline import LocalPipeline
    from local.synth import synthesize
    from tests.support.events import alarm_state_change

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's access log
    synthesized = synthesize()
    runs = ColdRuns(
        {
            display_name(logical_id): resource["Properties"]["Handler"]
            for logical_id, resource in synthesized.template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
    )
    with LocalPipeline(synthesized, wait_scale=WAIT_SCALE, serve_aws=True) as pipeline:
        endpoint_url = pipeline.aws.endpoint_url
        assert endpoint_url is not None
        names = {r.physical_id: display_name(r.logical_id) for r in pipeline.deployment.functions}
        by_name = {name: physical for physical, name in names.items()}
        seeded = pipeline.kube.snapshot()
        with recording(names) as recorded:
            run_drill(pipeline, "bench-cold-recording")
        replays = dict(recorded)
        if "FunctionsEscalateApproval" not in replays and "FunctionsRequestApproval" in replays:
            request = json.loads(replays["FunctionsRequestApproval"].event)
            function = lambda_backends[DEFAULT_ACCOUNT_ID][REGION].get_function(by_name["FunctionsEscalateApproval"])
            event = {"task_token": request["task_token"], "request": request["request"]}
            replays["FunctionsEscalateApproval"] = Invocation(function, json.dumps(event))
            runs.notes["FunctionsEscalateApproval"] = "event built from RequestApproval's"
        runs.deployment = json.loads(replays[ROLL_BACK_FUNCTION].event)["change"]["parameters"]["deployment"]
        intake = lambda_backends[DEFAULT_ACCOUNT_ID][REGION].get_function(by_name["FunctionsIntake"])
        kubeconfig = str(pipeline.kube.write_kubeconfig(sandbox.root / "kubeconfig", namespace=NAMESPACE))
        for index in range(rounds):
            for _ in range(KUBECTL_RUNS):
                pipeline.kube.restore(seeded)
                runs.kubectl.append(kubectl_undo_and_status(pipeline.kube, kubeconfig, runs.deployment))
            pipeline.kube.restore(seeded)
            release_lock(pipeline)  # taken by the previous round's replay or the rollback intake started
            for name, invocation in replays.items():
                runs.cold.setdefault(name, []).append(sandbox.cold_start(invocation, endpoint_url))
            alarm = alarm_state_change(name=f"skillancer-api-5xx-cold-{index}", at=f"2026-11-28T04:{index:02d}:00.000Z")
            runs.cold.setdefault("FunctionsIntake", []).append(
                sandbox.cold_start(Invocation(intake, json.dumps(alarm)), endpoint_url)
            )
            stop_executions(pipeline.sfn)  # the rollback intake may have started
    return runs


# --- what a handler module imports ---------------------------------------------------------------------------


def _module_path(module: str) -> Path | None:
    base = PROJECT_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_level_imports(path: Path, module: str) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (not in functions, not under TYPE_CHECKING)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
        for node in body:
            if isinstance(node, ast.Import):
                yield node
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    node = ast.ImportFrom(
                        module=f"{base}.{node.module}" if node.module else base, names=node.names, level=0
                    )
                yield node
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    yield from walk(node.body)
                    yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                yield from walk(node.body)

    yield from walk(ast.parse(path.read_text()).body)


def _closure(module: str) -> tuple[set[str], list[str]]:
    """What importing ``module`` runs: the ``functions`` modules (its packages' ``__init__`` included), and the
    third-party import statements of those modules, followed transitively."""
    stdlib = sys.stdlib_module_names | {"__future__"}
    seen: set[str] = set()
    statements: dict[str, None] = {}
    pending = [module]
    while pending:
        current = pending.pop()
        parts = current.split(".")
        for name in (".".join(parts[: i + 1]) for i in range(len(parts))):
            if name in seen or (path := _module_path(name)) is None:
                continue
            seen.add(name)
            for node in _module_level_imports(path, name):
                targets = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
                )
                top = targets[0].split(".")[0]
                if top == "functions":
                    pending.extend(t for t in targets if _module_path(t) is not None)
                elif top not in stdlib:
                    statements[ast.unparse(node)] = None
    return seen, list(statements)


def libraries_used(module: str) -> list[str]:
    return _closure(module)[1]


def traced_modules() -> tuple[str, ...]:
    """``functions.observability.TRACED_MODULES``, read from the source (importing it here would create the
    Powertools logger of the in-process handlers before their environment sets its level)."""
    path = _module_path("functions.observability")
    assert path is not None
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TRACED_MODULES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise LookupError("functions.observability.TRACED_MODULES not found")


def library_statements(module: str) -> str:
    """The libraries' imports, plus what the project asks of them at import: the Powertools Logger and the
    Tracer with its patching (as ``functions.observability`` configures it)."""
    modules, statements = _closure(module)
    if "functions.observability" in modules:
        statements += [
            "from aws_lambda_powertools import Logger, Tracer",
            f"Logger(); Tracer(patch_modules={list(traced_modules())!r})",
        ]
    return "\n".join(statements)


def bench_cold_starts() -> list[Row]:
    rows: list[Row] = []
    with LambdaSandbox.create() as sandbox:
        runs = cold_runs(sandbox, COLD_ROUNDS)
        kubectl_s = min(runs.kubectl)
        product = {name: min(s.total for s in starts) for name, starts in runs.cold.items()}
        undo_and_status = product[ROLL_BACK_FUNCTION] + product[CHECK_ROLLOUT_FUNCTION]
        rows += [
            (
                f"kubectl 1.37 rollout undo + rollout status --watch=false ({runs.deployment}, seeded state), "
                "2 processes",
                f"{kubectl_s * 1000:.0f}",
                "ms",
            ),
            (
                "product, same state: cold RollBackDeployment + cold CheckRollout, 2 new processes",
                f"{undo_and_status * 1000:.0f}",
                "ms",
            ),
            ("cold Kubernetes rollback / kubectl (target <= 1.0)", f"{undo_and_status / kubectl_s:.2f}", "x"),
        ]
        modules: dict[str, None] = {}
        for name, handler in runs.functions.items():
            module = handler.rpartition(".")[0]
            modules[module] = None
            starts = runs.cold.get(name)
            if not starts:
                seconds = sandbox.import_seconds(f"import {module}")
                rows.append((f"cold start {name}: import only (never invoked)", f"{seconds * 1000:.0f}", "ms"))
                continue
            fastest = min(starts, key=lambda s: s.total)
            imported, call = fastest.imported, fastest.call
            answers = sorted({s.error for s in starts if s.error})
            details = [runs.notes[name]] if name in runs.notes else []
            details += [f"answered {', '.join(answers)}"] if answers else []
            label = f"cold start {name}: new process, import {imported * 1000:.0f} + call {call * 1000:.0f} ms"
            rows.append((label + (f" ({'; '.join(details)})" if details else ""), f"{product[name] * 1000:.0f}", "ms"))
        for module in modules:
            own, libraries = sandbox.import_seconds_pair(f"import {module}", library_statements(module))
            tops = sorted({s.split()[1].split(".")[0] for s in libraries_used(module)})
            rows += [
                (f"import {module}", f"{own * 1000:.0f}", "ms"),
                (f"  import of the libraries it uses ({', '.join(tops)})", f"{libraries * 1000:.0f}", "ms"),
                (f"  ratio (target <= {RATIO_TARGET})", f"{own / libraries:.2f}", "x"),
            ]
        traced = list(traced_modules())
        patch_all, limited = sandbox.import_seconds_pair(
            "import boto3\nfrom aws_lambda_powertools import Tracer\nTracer()",
            f"import boto3\nfrom aws_lambda_powertools import Tracer\nTracer(patch_modules={traced!r})",
        )
        rows += [
            ("boto3 + Tracer() (X-Ray patch_all), in Lambda", f"{patch_all * 1000:.0f}", "ms"),
            (
                f"boto3 + Tracer(patch_modules={traced!r}) (functions.observability), in Lambda",
                f"{limited * 1000:.0f}",
                "ms",
            ),
        ]
    return rows


# --- the asset ---------------------------------------------------------------------------------------------


def bench_asset() -> list[Row]:
    from stacks.constructs.bundling import PipInstallBundling

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        PipInstallBundling().try_bundle(out, image=None)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
        zipped = Path(shutil.make_archive(str(Path(tempfile.mkdtemp()) / "asset"), "zip", out))
    return [
        ("functions asset, unzipped (arm64 wheels)", f"{size / 1e6:.1f}", "MB"),
        ("functions asset, zipped", f"{zipped.stat().st_size / 1e6:.1f}", "MB"),
        ("asset bundling time (pip, network, byte code)", f"{elapsed:.1f}", "s"),
    ]


def print_table(rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"| {'benchmark'.ljust(width)} | value | unit |")
    print(f"| {'-' * width} | ----: | ---- |")
    for name, value, unit in rows:
        print(f"| {name.ljust(width)} | {value} | {unit} |")


SECTIONS: dict[str, Callable[[], list[Row]]] = {
    "drill": bench_drill,
    "intake": bench_intake,
    "cold": bench_cold_starts,
    "asset": bench_asset,
}


def main(argv: list[str] | None = None) -> None:
    """``python -m local.bench [section ...]``: all sections by default (drill, intake, cold, asset)."""
    names = (argv if argv is not None else sys.argv[1:]) or list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    rows: list[Row] = []
    for name in names:
        rows.extend(SECTIONS[name]())
    print_table(rows)


if __name__ == "__main__":
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    main()
