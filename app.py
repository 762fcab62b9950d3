#!/usr/bin/env python3
"""CDK entry point: ``npx aws-cdk@2 synth`` / ``deploy``, or ``python app.py`` to synthesize without the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import load_config
from stacks.rollback_stack import RollbackPipelineStack


def cli_or_file_context() -> dict[str, Any] | None:
    """The CDK CLI passes cdk.json's context itself; ``python app.py`` (``make synth``) reads it here."""
    if os.environ.get("CDK_CONTEXT_JSON"):
        return None
    context: dict[str, Any] = json.loads((Path(__file__).parent / "cdk.json").read_text())["context"]
    return context


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App(context=cli_or_file_context())
    config = load_config(app.node.try_get_context("rollback"))
    RollbackPipelineStack(
        app,
        config.stack_name,
        config=config,
        description="Rollback pipeline: propose, approve, execute, verify and record rollbacks",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
