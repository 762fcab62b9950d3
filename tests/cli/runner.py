"""Run the `rollback` command as operators do: a separate process, over HTTP to the emulators (moto's server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def cli_env(**extra: str) -> dict[str, str]:
    """The test process's environment without its AWS settings (the emulator sets some), plus test keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    return {**env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **extra}


def command(*args: str, endpoint_url: str | None = None) -> list[str]:
    where = ["--endpoint-url", endpoint_url, "--region", REGION] if endpoint_url else []
    return [sys.executable, "-m", "rollback_cli", *args, *where]


def rollback(*args: str, endpoint_url: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args, endpoint_url=endpoint_url),
        capture_output=True,
        text=True,
        env=cli_env(**env),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def start_rollback(*args: str, endpoint_url: str) -> subprocess.Popen[str]:
    """The command running in the background (for ``status --follow``), its stdout line-buffered to us."""
    return subprocess.Popen(
        command(*args, endpoint_url=endpoint_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=cli_env(),
        cwd=ROOT,
    )
