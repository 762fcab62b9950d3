"""The plug-in boundary: the spine knows no rollback type, no type imports another, and only the registry names
them; the spine's words are generic (no Kubernetes concept on the approval page, in emails, reports...)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLICES = sorted(p.name for p in (ROOT / "functions" / "rollbacks").iterdir() if (p / "__init__.py").exists())
REGISTRY = ROOT / "functions" / "rollbacks" / "registry.py"
SPINE_HANDLERS = sorted(
    f"functions.handlers.{p.stem}" for p in (ROOT / "functions" / "handlers").glob("*.py") if p.stem != "__init__"
)
KUBERNETES_WORDS = re.compile(r"\b(deployments?|namespaces?|revisions?|kubectl|kubernetes|pods?|replicasets?)\b", re.I)
# The CloudWatch metric "namespace" of an alarm is not a Kubernetes namespace.
CLOUDWATCH_NAMESPACE = (
    "functions/logic/decision_matrix.py",
    "functions/logic/intake.py",
    "functions/models/rollback.py",  # MetricQuery
    "functions/adapters/metrics.py",
)


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def product_files() -> list[Path]:
    return [p for folder in ("functions", "stacks") for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]


def test_there_is_a_slice_per_registered_type() -> None:
    from functions.rollbacks.registry import ROLLBACK_TYPES

    assert sorted(ROLLBACK_TYPES) == SLICES


def test_nothing_outside_a_slice_imports_it_but_the_registry() -> None:
    offenders = []
    for path in product_files():
        for name in SLICES:
            inside = (ROOT / "functions" / "rollbacks" / name) in path.parents
            if inside or path == REGISTRY:
                continue
            if any(m == f"functions.rollbacks.{name}" or m.startswith(f"functions.rollbacks.{name}.")
                   for m in imported_modules(path)):  # fmt: skip
                offenders.append(f"{path.relative_to(ROOT)} imports the {name} slice")
    assert offenders == []


def test_the_spine_speaks_of_no_kubernetes_concept() -> None:
    spine = [
        *(ROOT / "functions" / "handlers").glob("*.py"),
        *(ROOT / "functions" / "logic").glob("*.py"),
        *(ROOT / "functions" / "models").glob("*.py"),
        *(ROOT / "functions" / "adapters").glob("*.py"),
        ROOT / "functions" / "steps.py",
        ROOT / "functions" / "change_steps.py",
        ROOT / "functions" / "transient.py",
        ROOT / "functions" / "errors.py",
        ROOT / "state_machines" / "spine.asl.json",
        ROOT / "stacks" / "definitions.py",
    ]
    found = []
    for path in spine:
        relative = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for word in KUBERNETES_WORDS.findall(line):
                if word.lower() == "namespace" and relative in CLOUDWATCH_NAMESPACE:
                    continue
                found.append(f"{relative}:{number}: {word}")
    assert found == []


def test_spine_functions_do_not_load_any_rollback_types_client_libraries() -> None:
    # Given a new interpreter, When every spine handler module is imported
    script = (
        "import importlib, sys\n"
        f"for module in {SPINE_HANDLERS!r}:\n"
        "    importlib.import_module(module)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('kubernetes', 'click', 'rich')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT)
    # Then neither the Kubernetes client nor the CLI's libraries were loaded
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_capabilities_serve_slices_and_never_reach_back_into_them() -> None:
    capabilities = ROOT / "functions" / "capabilities"
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in capabilities.rglob("*.py")
        for module in imported_modules(path)
        if module.startswith("functions.rollbacks.") and not module.startswith("functions.rollbacks.contract")
    ]
    spine = [
        p for folder in ("handlers", "logic", "models", "adapters") for p in (ROOT / "functions" / folder).glob("*.py")
    ]
    offenders += [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in spine
        for module in imported_modules(path)
        if module.startswith("functions.capabilities")
    ]
    assert offenders == []
