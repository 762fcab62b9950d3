#!/usr/bin/env python3
"""CDK entry point: ``npx aws-cdk@2 synth`` / ``deploy``, or ``python app.py`` to synthesize without the CLI."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import PROFILE_CONTEXT_KEY, load_config
from stacks.rollback_stack import RollbackPipelineStack


def cli_or_file_context(profile: str | None = None) -> dict[str, Any] | None:
    """The CDK CLI passes cdk.json's context itself; ``python app.py [--profile P]`` (``make synth``) reads it
    here."""
    if os.environ.get("CDK_CONTEXT_JSON"):
        return None
    context: dict[str, Any] = json.loads((Path(__file__).parent / "cdk.json").read_text())["context"]
    if profile:
        context[PROFILE_CONTEXT_KEY] = profile
    return context


def rollback_context(app: cdk.App) -> Any:
    """The ``rollback`` context, with the profile that ``-c rollback:profile=...`` chose (if any)."""
    rollback = app.node.try_get_context("rollback")
    profile = app.node.try_get_context(PROFILE_CONTEXT_KEY)
    if profile is not None and isinstance(rollback, dict):
        return {**rollback, "profile": profile}
    return rollback


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App(context=cli_or_file_context())
    config = load_config(rollback_context(app))
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
    parser = argparse.ArgumentParser(description="Synthesize the stack (the CDK CLI runs this without arguments).")
    parser.add_argument("--profile", choices=["deployment", "local-emulation"], help="sets rollback.profile")
    build_app(cdk.App(context=cli_or_file_context(parser.parse_args().profile))).synth()
