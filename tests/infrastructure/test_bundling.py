"""The functions' asset leaves out packages the functions never import; prove they are not imported. And it
holds the functions only: the operators' `rollback` command (rollback_cli) is not in it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from functions.rollbacks.registry import ROLLBACK_TYPES
from stacks.constructs import bundling
from stacks.constructs.bundling import FUNCTIONS_DIR, PRUNED

CLI_ONLY = ("rollback_cli", "click", "rich")
# Every module a function's handler lives in: the spine's handlers and each rollback type's.
HANDLER_MODULES = sorted(
    {f"functions.handlers.{p.stem}" for p in (FUNCTIONS_DIR / "handlers").glob("*.py") if p.stem != "__init__"}
    | {f.handler.rpartition(".")[0] for kind in ROLLBACK_TYPES.values() for f in kind.functions}
)

RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def test_handlers_import_without_what_the_asset_leaves_out() -> None:
    # Given an interpreter in which what the asset does not hold cannot be imported: the Kubernetes client (the
    # functions speak JSON to the API), the CLI and its libraries
    blocked = sorted({"kubernetes", *CLI_ONLY} | ({name.replace("/", ".") for name in PRUNED} - RUNTIME_PROVIDED))
    script = f"""
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError("pruned from the asset: " + name)
sys.meta_path.insert(0, Block())
for module in {HANDLER_MODULES!r}:
    importlib.import_module(module)
print("ok")
"""
    # When every handler module is imported, Then none needs them
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_asset_holds_no_cli_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the local bundling without its pip step (the dependencies are not the question here)
    pip_calls: list[Any] = []
    monkeypatch.setattr(bundling, "subprocess", SimpleNamespace(run=lambda *args, **kwargs: pip_calls.append(args)))
    # When the functions' asset is bundled
    assert bundling.PipInstallBundling().try_bundle(str(tmp_path), image=None)
    # Then it holds the functions package, with the shared models and the rollback types' registry
    asset = tmp_path / "functions"
    assert len(pip_calls) == 1
    assert (asset / "models" / "rollback.py").is_file() and (asset / "rollbacks" / "registry.py").is_file()
    # And no CLI: no cli package, nothing of rollback_cli, no module importing it or its click and rich
    assert [p for p in tmp_path.rglob("*") if p.name in ("cli", "rollback_cli")] == []
    importers = {
        str(py.relative_to(tmp_path)): sorted(m for m in imported_modules(py) if m.split(".")[0] in CLI_ONLY)
        for py in asset.rglob("*.py")
    }
    assert {path: modules for path, modules in importers.items() if modules} == {}
