"""Synthesize the stack for local use (tests, drill, bench): no Docker, no credentials, bundling skipped.

Bundling is skipped because locally the handlers run from the source tree; ``make synth`` bundles for real.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.capabilities.kubernetes.settings import LOCAL_EMULATION

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    template: dict[str, Any]
    outdir: Path
    stack: Any  # the aws_cdk.Stack, for assertions such as cdk-nag annotations


def base_context() -> dict[str, Any]:
    """cdk.json's context in the local-emulation profile: its placeholder cluster endpoint and empty CA are
    accepted (the emulators replace them), which a deployment refuses."""
    context: dict[str, Any] = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    context["rollback"]["profile"] = LOCAL_EMULATION
    return context


def synthesize(overrides: dict[str, Any] | None = None, outdir: Path | None = None) -> Synthesized:
    """Synthesize with the ``rollback`` context from cdk.json, updated with ``overrides`` (top-level keys)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk

    from app import build_app

    context = copy.deepcopy(base_context())
    context["rollback"].update(overrides or {})
    context["aws:cdk:bundling-stacks"] = []
    out = outdir or Path(tempfile.mkdtemp(prefix="rollback-synth-"))
    app = build_app(cdk.App(context=context, outdir=str(out)))
    assembly = app.synth()
    stack_name = context["rollback"].get("stack_name", "RollbackPipeline")
    template = assembly.get_stack_by_name(stack_name).template
    return Synthesized(stack_name=stack_name, template=template, outdir=out, stack=app.node.find_child(stack_name))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Synthesize the stack as the tests do (bundling skipped).")
    parser.add_argument("--out", type=Path, required=True, help="cloud assembly folder")
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    print(synthesize(outdir=arguments.out).outdir)
