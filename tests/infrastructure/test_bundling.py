"""The functions' asset leaves out packages the functions never import; prove they are not imported."""

from __future__ import annotations

import subprocess
import sys

from local.bench import HANDLER_MODULES
from stacks.constructs.bundling import PRUNED

RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}


def test_handlers_import_without_the_pruned_packages() -> None:
    # Given an interpreter in which the pruned packages (but not the runtime's AWS SDK) cannot be imported
    blocked = sorted({name.replace("/", ".") for name in PRUNED} - RUNTIME_PROVIDED)
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
