#!/usr/bin/env python3
"""CDK entry point: ``npx aws-cdk@2 synth`` / ``deploy``, or ``python app.py`` to synthesize without the CLI."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import load_config
from stacks.rollback_stack import RollbackPipelineStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
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
