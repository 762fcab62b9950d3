"""The functions' asset leaves out packages the functions never import; prove they are not imported. And it
holds the functions only: the operators' `rollback` command (rollback_cli) is not in it."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from functions.rollbacks.registry import ROLLBACK_TYPES
from stacks.constructs import bundling
from stacks.constructs.bundling import FUNCTIONS_DIR, PYTHON_VERSION, REQUIREMENTS, compile_for_runtime, prune

CLI_ONLY = ("rollback_cli", "click", "rich")
# Every module a function's handler lives in: the spine's handlers and each rollback type's.
HANDLER_MODULES = sorted(
    {f"functions.handlers.{p.stem}" for p in (FUNCTIONS_DIR / "handlers").glob("*.py") if p.stem != "__init__"}
    | {f.handler.rpartition(".")[0] for kind in ROLLBACK_TYPES.values() for f in kind.functions}
)


def test_handlers_import_without_what_the_asset_leaves_out() -> None:
    # Given an interpreter in which what the asset does not hold cannot be imported: the Kubernetes client (the
    # functions speak JSON to the API), the CLI and its libraries
    blocked = sorted({"kubernetes", *CLI_ONLY})
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


def pins(requirements: Path) -> dict[str, str]:
    found = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            found[name.split("[", 1)[0].strip().lower()] = version.strip()
    return found


def test_the_functions_run_on_the_aws_sdk_the_tests_run_on() -> None:
    # Given the versions the asset is built from, and those this test run imports
    from importlib.metadata import version

    pinned = pins(REQUIREMENTS)
    # Then the AWS SDK is pinned exactly, to the very versions under test (the asset bundles it, see bundling.py)
    for package in ("boto3", "botocore", "s3transfer"):
        assert pinned.get(package) == version(package), package


def test_pruning_drops_pips_byte_code_console_scripts_and_metadata_of_packages_not_there(tmp_path: Path) -> None:
    # Given what pip leaves in a --target folder: packages, their metadata, byte code and console scripts, and the
    # metadata of a package that is not there
    for package, version in (("botocore", "1.44.8"), ("pydantic", "2.14.4")):
        (tmp_path / package / "__pycache__").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
        metadata = tmp_path / f"{package}-{version}.dist-info"
        metadata.mkdir()
        (metadata / "RECORD").write_text(
            f"{package}/__init__.py,sha256=x,0\n{package}/__pycache__/__init__.cpython-311.pyc,,\n"
            f"{metadata.name}/RECORD,,\n../../bin/{package},,\n"
        )
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "dotenv").write_text("#!/build/machine/python\n")
    (tmp_path / "stale-1.0.dist-info").mkdir()
    (tmp_path / "stale-1.0.dist-info" / "RECORD").write_text("stale/__init__.py,,\nstale-1.0.dist-info/RECORD,,\n")
    (tmp_path / "loose.pyc").write_bytes(b"\0")
    # When the asset is pruned
    prune(tmp_path)
    # Then the packages and their metadata stay; byte code, scripts and the stale metadata are gone
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == [
        "botocore", "botocore-1.44.8.dist-info", "botocore-1.44.8.dist-info/RECORD", "botocore/__init__.py",
        "pydantic", "pydantic-2.14.4.dist-info", "pydantic-2.14.4.dist-info/RECORD", "pydantic/__init__.py",
    ]  # fmt: skip


@pytest.mark.skipif(
    f"{sys.version_info.major}.{sys.version_info.minor}" != PYTHON_VERSION, reason="byte code is per Python version"
)
def test_the_asset_ships_byte_code_lambda_uses_as_it_is_whatever_the_files_dates(tmp_path: Path) -> None:
    # Given a module in the asset
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "__init__.py").write_text("")
    module = tmp_path / "package" / "module.py"
    module.write_text("VALUE = 'compiled at build time'\n")
    # When the asset is compiled for the runtime
    assert compile_for_runtime(tmp_path)
    # Then each module has unchecked-hash byte code (flags 0b01: hash-based, source not checked)
    pyc = importlib.util.cache_from_source(str(module))
    assert int.from_bytes(Path(pyc).read_bytes()[4:8], "little") == 0b01
    # And Lambda's Python uses it as it is: with the files dated 1980 (as the CDK zips them) and /var/task read-only
    # (no byte code written), the module is not compiled again from its source, whatever the source now says
    module.write_text("VALUE = 'compiled again at the cold start'\n")
    for path in tmp_path.rglob("*.py"):
        os.utime(path, (315532800, 315532800))
    code = "import package.module as m; print(m.VALUE)"
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1", "PATH": os.environ.get("PATH", "")},
    )  # fmt: skip
    assert ran.stdout.strip() == "compiled at build time"
