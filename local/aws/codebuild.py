"""The emulated CodeBuild's builds: each ends as the test or drill set it up, and reads as CodeBuild reports it.

moto 5.2.5 records a build's start but drops its ``environmentVariablesOverride``, ``buildspecOverride`` and
``idempotencyToken``, reports every build SUCCEEDED at its first read (appending its phases again at every read)
and keeps no logs. The stand-in (installed by :mod:`local.aws.patches`) keeps the overrides on the build, honours
the idempotency token for five minutes as CodeBuild does (the same token returns the same build), and ends each
build as set up for its project:

    BUILDS.script("skillancer-schema-rollback", status="FAILED", log="Error: P3011", reads_in_progress=2)
    BUILDS.run_locally("skillancer-schema-rollback", cwd=checkout, timeout=120)

A scripted build reads ``IN_PROGRESS`` ``reads_in_progress`` times, then ends with ``status`` (a failed one in
its ``BUILD`` phase, at its last command). A build run locally runs its buildspec's commands with ``bash`` in a
thread (the project's and the build's variables set), stops at the first that fails, and ends SUCCEEDED, FAILED
or TIMED_OUT with their output as its log. A project with nothing set up succeeds at once (moto's behaviour).
Either way the build has ``phases``, ``logs.deepLink`` (its CloudWatch Logs stream) and a log, :meth:`log_of`.
A project can also have what its successful builds produce emulated, :meth:`on_success` (e.g. the Terraform builds
of :mod:`local.aws.terraform`, which put their saved plan in S3).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from moto.core.utils import iso_8601_datetime_with_milliseconds

PHASES = ("PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS",
          "FINALIZING")  # fmt: skip
BUILDSPEC_PHASES = ("install", "pre_build", "build", "post_build")
TOKEN_LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class Script:
    status: str = "SUCCEEDED"
    log: str = ""
    reads_in_progress: int = 0


@dataclass(frozen=True)
class LocalRun:
    cwd: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0


@dataclass
class _Build:
    metadata: dict[str, Any]
    commands: list[str]
    variables: dict[str, str]
    script: Script | None
    started: float = field(default_factory=time.monotonic)
    reads_left: int = 0
    status: str = "IN_PROGRESS"
    failed_command: str | None = None
    exit_status: int | None = None
    log: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None


@dataclass(frozen=True)
class StartedBuild:
    """A build as it was started: its project, variables (overrides included) and the commands it runs."""

    build_id: str
    project: str
    variables: dict[str, str]
    commands: list[str]


class CodeBuildStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Script]] = {}
        self._local: dict[str, LocalRun] = {}
        self._builds: dict[str, _Build] = {}
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._on_success: dict[str, Callable[[StartedBuild], str]] = {}

    def script(self, project: str, status: str = "SUCCEEDED", log: str = "", reads_in_progress: int = 0) -> None:
        """The next build of ``project`` ends with ``status`` after reading IN_PROGRESS ``reads_in_progress`` times."""
        with self._lock:
            self._scripts.setdefault(project, []).append(Script(status, log, reads_in_progress))

    def run_locally(
        self, project: str, *, cwd: Path | None = None, environment: dict[str, str] | None = None, timeout: float = 60
    ) -> None:
        """Builds of ``project`` run their commands here, with ``bash``, in ``cwd``."""
        with self._lock:
            self._local[project] = LocalRun(cwd, dict(environment or {}), timeout)

    def on_success(self, project: str, produce: Callable[[StartedBuild], str]) -> None:
        """What a build of ``project`` that ends SUCCEEDED (scripted, or with nothing set up) produces: ``produce``
        runs as it ends and returns its log; if it raises, the build ends FAILED with the error as its log."""
        with self._lock:
            self._on_success[project] = produce

    def clear(self) -> None:
        with self._lock:
            self._on_success.clear()
            self._scripts.clear()
            self._local.clear()
            self._builds.clear()
            self._tokens.clear()

    def started(self, project: str | None = None) -> list[StartedBuild]:
        """Every build started so far (of ``project``), in order."""
        with self._lock:
            return [
                StartedBuild(b.metadata["id"], b.metadata["projectName"], dict(b.variables), list(b.commands))
                for b in self._builds.values()
                if project is None or b.metadata["projectName"] == project
            ]

    def log_of(self, build_id: str) -> str:
        with self._lock:
            return "".join(self._builds[build_id].log)

    # --- called by the patches -------------------------------------------------------------------------------

    def same_token(self, project: str, token: str | None) -> str | None:
        """The build a start with ``token`` made in the last five minutes, if any."""
        if not token:
            return None
        with self._lock:
            found = self._tokens.get((project, token))
            if found and time.monotonic() - found[1] < TOKEN_LIFETIME_SECONDS:
                return found[0]
            return None

    def begin(
        self,
        metadata: dict[str, Any],
        *,
        project_variables: list[dict[str, str]],
        overrides: list[dict[str, str]],
        buildspec: str | None,
        token: str | None,
        region: str,
    ) -> None:
        """A build moto just started: keep its overrides, link its logs, and start it as set up."""
        project, build_id = metadata["projectName"], metadata["id"]
        stream = build_id.split(":", 1)[1]
        variables = {v["name"]: v.get("value", "") for v in [*project_variables, *overrides]}
        metadata["environment"]["environmentVariables"] = [
            {"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()
        ]
        if buildspec:
            metadata["source"]["buildspec"] = buildspec
        group = f"/aws/codebuild/{project}"
        metadata["logs"] = {
            "groupName": group,
            "streamName": stream,
            "deepLink": f"https://console.aws.amazon.com/cloudwatch/home?region={region}#logEvent:group={group};"
            f"stream={stream}",
            "cloudWatchLogsArn": f"arn:aws:logs:{region}:{metadata['arn'].split(':')[4]}:log-group:{group}:"
            f"log-stream:{stream}",
            "cloudWatchLogs": {"status": "ENABLED"},
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": False},
        }
        commands = _commands(buildspec)
        with self._lock:
            scripts = self._scripts.get(project) or []
            script = scripts.pop(0) if scripts else None
            local = None if script else self._local.get(project)
            build = _Build(metadata, commands, variables, script)
            build.reads_left = script.reads_in_progress if script else 0
            self._builds[build_id] = build
            if token:
                self._tokens[(project, token)] = (build_id, time.monotonic())
        if local is not None:
            build.thread = threading.Thread(target=self._run, args=(build, local), daemon=True)
            build.thread.start()

    def report(self, metadata: dict[str, Any]) -> None:
        """Brings ``metadata`` (a build moto keeps) up to date, as a ``BatchGetBuilds`` read finds it."""
        with self._lock:
            build = self._builds.get(metadata["id"])
            if build is None or metadata.get("buildComplete"):
                return
            if metadata.get("buildStatus") == "STOPPED" and build.status == "IN_PROGRESS":  # StopBuild
                build.status = "STOPPED"
            if build.thread is None and build.status == "IN_PROGRESS":
                if build.reads_left > 0:
                    build.reads_left -= 1
                else:
                    self._end_as_scripted(build)
            _describe(build)

    # --- the builds ------------------------------------------------------------------------------------------

    def _end_as_scripted(self, build: _Build) -> None:
        script = build.script or Script(log="".join(f"(emulated) {command}\n" for command in build.commands))
        build.log.append(script.log if script.log.endswith("\n") or not script.log else script.log + "\n")
        build.status = script.status
        produce = self._on_success.get(build.metadata["projectName"])
        if produce is not None and script.status == "SUCCEEDED":
            started = StartedBuild(build.metadata["id"], build.metadata["projectName"], dict(build.variables),
                                   list(build.commands))  # fmt: skip
            try:
                build.log.append(produce(started))
            except Exception as error:  # the build's own failure, as its log shows it
                build.log.append(f"{type(error).__name__}: {error}\n")
                build.status, build.exit_status = "FAILED", 1
                build.failed_command = build.commands[-1] if build.commands else "(the buildspec)"
        if script.status == "FAILED":
            build.failed_command = build.commands[-1] if build.commands else "(the project's buildspec)"
            build.exit_status = 1

    def _run(self, build: _Build, local: LocalRun) -> None:
        environment = {
            **os.environ,
            **local.environment,
            **build.variables,
            "CODEBUILD_BUILD_ID": build.metadata["id"],
        }
        deadline = time.monotonic() + local.timeout
        status = "SUCCEEDED"
        for command in build.commands:
            self._say(build, f"Running command {command}")
            try:
                done = subprocess.run(
                    ["bash", "-c", command],
                    cwd=local.cwd,
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=max(0.1, deadline - time.monotonic()),
                    check=False,
                )
            except subprocess.TimeoutExpired as expired:
                output = expired.stdout if isinstance(expired.stdout, str) else ""
                with self._lock:
                    build.log.append(output)
                self._say(build, f"Build timed out after {local.timeout:g} seconds")
                status = "TIMED_OUT"
                break
            with self._lock:
                build.log.append(done.stdout + done.stderr)
            if done.returncode != 0:
                self._say(build, f"Command did not exit successfully {command} exit status {done.returncode}")
                with self._lock:
                    build.failed_command, build.exit_status = command, done.returncode
                status = "FAILED"
                break
        self._say(build, f"Phase complete: BUILD State: {status}")
        with self._lock:
            build.status = status
            build.thread = None

    def _say(self, build: _Build, line: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d %H:%M:%S.%f")
        with self._lock:
            build.log.append(f"[Container] {stamp} {line}\n")


def _commands(buildspec: str | None) -> list[str]:
    if not buildspec:
        return []
    spec = yaml.safe_load(buildspec) or {}
    phases = spec.get("phases") or {}
    return [str(c) for phase in BUILDSPEC_PHASES for c in (phases.get(phase) or {}).get("commands") or []]


def _describe(build: _Build) -> None:
    """The build's metadata as CodeBuild reports it: status, phases (the failed one with its reason), end."""
    metadata = build.metadata
    stamp = iso_8601_datetime_with_milliseconds()
    ended = build.status != "IN_PROGRESS"
    phases = [p for p in metadata["phases"] if p["phaseType"] == "SUBMITTED"]
    phases.append({"phaseType": "QUEUED", "phaseStatus": "SUCCEEDED", "startTime": stamp, "endTime": stamp})
    for phase in PHASES:
        entry: dict[str, Any] = {"phaseType": phase, "startTime": stamp}
        if phase == "BUILD" and not ended:
            phases.append(entry)
            break
        failed = phase == "BUILD" and build.status != "SUCCEEDED"
        entry.update(endTime=stamp, durationInSeconds=0, phaseStatus=build.status if failed else "SUCCEEDED")
        if failed and build.failed_command:
            entry["contexts"] = [
                {
                    "statusCode": "COMMAND_EXECUTION_ERROR",
                    "message": f"Error while executing command: {build.failed_command}. Reason: exit status "
                    f"{build.exit_status}",
                }
            ]
        phases.append(entry)
    if ended:
        phases.append({"phaseType": "COMPLETED", "startTime": stamp})
    metadata["phases"] = phases
    metadata["currentPhase"] = "COMPLETED" if ended else "BUILD"
    metadata["buildStatus"] = build.status
    metadata["buildComplete"] = ended
    if ended:
        metadata["endTime"] = stamp


BUILDS = CodeBuildStandIn()
