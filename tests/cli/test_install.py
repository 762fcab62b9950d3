"""`pip install .` into an empty virtual environment gives a working `rollback`: the project declares what the
command needs, and the command needs nothing of the Lambda side (no Kubernetes client, no Powertools)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from functions.rollbacks.registry import ROLLBACK_TYPES
from tests.cli.runner import ROOT

# What `pip install .` reads: the project's metadata and the packages it installs (copied, so that the build
# leaves no build/ or *.egg-info in the working tree).
SOURCES = ["pyproject.toml", "rollback_cli", "functions"]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
INSTALL_TIMEOUT = 240


def clean_env() -> dict[str, str]:
    """This environment without the test's virtualenv, Python path or AWS settings."""
    leaked = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_TARGET", "PIP_PREFIX", "PIP_USER")
    return {k: v for k, v in os.environ.items() if k not in leaked and not k.startswith(("AWS_", "MOTO_"))}


def test_pip_install_into_an_empty_venv_gives_a_working_command(tmp_path: Path) -> None:
    # Given a copy of the project and an empty virtual environment (only pip in it)
    source = tmp_path / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    env = clean_env()
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=60)
    before = set(os.listdir(ROOT))

    # When the project is installed into it with pip, dependencies and all
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    print(f"venv + pip install: {time.monotonic() - started:.1f} s")

    # Then `rollback --help` works from anywhere (not the source tree) and lists the commands
    def rollback(*args: str) -> subprocess.CompletedProcess[str]:
        script = venv / "bin" / "rollback"
        return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)

    root = rollback("--help")
    assert root.returncode == 0, root.stderr
    for command in ("start", "status", "list", "history", "exit codes"):
        assert command in root.stdout
    # And `rollback start <type> --help` lists that type's own options, generated from its model
    for name, rollback_type in ROLLBACK_TYPES.items():
        typed = rollback("start", name, "--help")
        assert typed.returncode == 0, typed.stderr
        assert rollback_type.title in " ".join(typed.stdout.split())  # the help text wraps long titles
    kubernetes = rollback("start", "kubernetes_app", "--help")
    for option in ("--namespace", "--deployment", "--revision", "--version", "--service", "--confirm"):
        assert option in kubernetes.stdout
    # And nothing of the Lambda side was installed for it
    lambda_only = ["kubernetes", "aws_lambda_powertools", "jwt"]
    probe = "import importlib.util, sys; print([m for m in sys.argv[1:] if importlib.util.find_spec(m)])"
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe, *lambda_only], capture_output=True, text=True, env=env, check=True
    )
    assert found.stdout.strip() == "[]"
    # And the working tree got no build artefacts
    assert [n for n in set(os.listdir(ROOT)) - before if n == "build" or n.endswith(".egg-info")] == []
