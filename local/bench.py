"""Benchmarks (``make bench``), printed as a table. Speed and size goals live here, never in tests.

- pipeline overhead per drill: an approved kubernetes_app rollback on the emulators with emulated waits
  taking no time (so what remains is the pipeline's own work: ASL interpretation, handlers, AWS and
  Kubernetes API calls, approvals over HTTP), median of several runs
- state transitions per app rollback
- cold import time of each handler module (fresh interpreter, min of 3)
- the functions' asset size (bundled for arm64 Lambda with pip)
- undo + status time of the product vs real kubectl against the same fake API server
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.synth import PROJECT_ROOT

HANDLER_MODULES = [
    "functions.handlers.validate_input",
    "functions.handlers.kubernetes_steps",
    "functions.handlers.locks",
    "functions.handlers.approvals",
    "functions.handlers.verify_health",
    "functions.handlers.write_report",
    "functions.handlers.intake",
]

Row = tuple[str, str, str]


def cold_import_seconds(module: str, runs: int = 3) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
            env={"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"},
        )  # fmt: skip
        samples.append(float(out.stdout.strip()))
    return min(samples)


def bench_imports() -> list[Row]:
    return [
        (f"cold import {m.rsplit('.', 1)[-1]}", f"{cold_import_seconds(m) * 1000:.0f}", "ms") for m in HANDLER_MODULES
    ]


WAIT_SCALE = 0.01  # real seconds per emulated second in Wait states and retries


def emulated_wait_seconds(events: list[dict[str, Any]]) -> float:
    """Real time the execution spent in Wait states (their seconds, scaled by the fast clock)."""
    import json

    from stacks.constructs.workflow import definition_path

    states: dict[str, Any] = {}
    pending = [json.loads(definition_path("kubernetes_app").read_text())["States"]]
    while pending:
        for name, state in pending.pop().items():
            states[name] = state
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"]["States"])
    waits = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "WaitStateEntered"]
    return sum(states[name]["Seconds"] for name in waits) * WAIT_SCALE


def bench_drill(runs: int = 3) -> list[Row]:
    from local import approver
    from local.pipeline import LocalPipeline, rollback_input
    from local.synth import synthesize

    synthesized = synthesize()
    durations, transitions = [], []
    for index in range(runs):
        with LocalPipeline(synthesized, wait_scale=WAIT_SCALE) as pipeline:
            started = time.perf_counter()
            execution = pipeline.start(rollback_input(), name=f"bench-{index}")
            pipeline.wait_for_state(execution, "Request approval")
            pipeline.approval_requests(count=3)
            for email in ("oncall-primary@skillancer.com", "eng-lead@skillancer.com"):
                approver.decide(pipeline.link_for(email), "approve")
            result = pipeline.wait(execution)
            elapsed = time.perf_counter() - started
            assert result["status"] == "SUCCEEDED", result
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
        ("asset bundling time (pip, network)", f"{elapsed:.1f}", "s"),
    ]


def bench_undo_vs_kubectl(runs: int = 5) -> list[Row]:
    """``rollout undo`` + ``rollout status`` until rolled out: real kubectl vs the product, same fake cluster,
    same starting state (restored from a snapshot before each run), controller ticking every 20 ms."""
    import boto3

    from functions.kubernetes.client import kubernetes_clients
    from functions.kubernetes.rollouts import DeploymentRollouts
    from local.kube.kubectl import kubectl_path
    from local.kube.server import FakeKubernetes
    from local.kube.skillancer import seed_skillancer

    kubectl = str(kubectl_path())
    keys = {"AKIABENCHMARK0000000": "bench-secret"}
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIABENCHMARK0000000",
                       aws_secret_access_key="bench-secret")  # fmt: skip
    with FakeKubernetes(aws_credentials=keys) as fake, tempfile.TemporaryDirectory() as home:
        seed_skillancer(fake)
        seeded = fake.snapshot()
        kubeconfig = str(fake.write_kubeconfig(Path(home) / "config", namespace="production"))
        rollouts = DeploymentRollouts(
            *kubernetes_clients(endpoint=fake.url, ca_data=fake.ca_data, cluster_name=fake.cluster_name, sts_client=sts)
        )

        def with_kubectl() -> None:
            for command in (["rollout", "undo"], ["rollout", "status", "--timeout=60s"]):
                subprocess.run([kubectl, "--kubeconfig", kubeconfig, *command, "deployment/skillancer-web"],
                               check=True, capture_output=True)  # fmt: skip

        def with_product() -> None:
            rollouts.undo("production", "skillancer-web")
            while not rollouts.status("production", "skillancer-web").done:
                time.sleep(0.02)

        timings: dict[str, list[float]] = {"kubectl": [], "product": []}
        for _ in range(runs):
            for name, action in (("kubectl", with_kubectl), ("product", with_product)):
                fake.restore(seeded)
                started = time.perf_counter()
                action()
                timings[name].append(time.perf_counter() - started)
                image = fake.deployment("production", "skillancer-web")["spec"]["template"]["spec"]["containers"][0]
                assert image["image"].endswith(":v1.0.0-rc.5"), (name, image)
    kubectl_s, product_s = statistics.median(timings["kubectl"]), statistics.median(timings["product"])
    return [
        ("undo + status until rolled out, real kubectl 1.37", f"{kubectl_s * 1000:.0f}", "ms"),
        ("undo + status until rolled out, product (Python client)", f"{product_s * 1000:.0f}", "ms"),
        ("product / kubectl time ratio", f"{product_s / kubectl_s:.2f}", "x"),
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


def print_table(rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"| {'benchmark'.ljust(width)} | value | unit |")
    print(f"| {'-' * width} | ----: | ---- |")
    for name, value, unit in rows:
        print(f"| {name.ljust(width)} | {value} | {unit} |")


def main() -> None:
    sections: list[Callable[[], list[Row]]] = [
        bench_drill,
        bench_intake,
        bench_undo_vs_kubectl,
        bench_imports,
        bench_asset,
    ]
    rows: list[Row] = []
    for section in sections:
        rows.extend(section())
    print_table(rows)


if __name__ == "__main__":
    main()
