"""Fixtures of the emulator's own tests: the CDK test stack, synthesized once per session, and deployed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local.aws.emulator import AwsEmulator
from local.aws.template import Deployment
from tests.emulator.stack import SynthesizedStack, synthesize_test_stack


@pytest.fixture(scope="session")
def test_stack() -> SynthesizedStack:
    return synthesize_test_stack()


@dataclass
class Deployed:
    aws: AwsEmulator
    deployment: Deployment
    sfn: Any
    table: Any

    @property
    def workflow_arn(self) -> str:
        return self.deployment.state_machine_arn("Workflow")

    def start(self, name: str, **payload: Any) -> str:
        import json

        body = {"run_id": name, "failures": 0, "items": [], **payload}
        return str(
            self.sfn.start_execution(stateMachineArn=self.workflow_arn, name=name, input=json.dumps(body))[
                "executionArn"
            ]
        )

    def item(self, run_id: str, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.get_item(Key={"pk": run_id, "sk": sk}).get("Item")
        return item

    def wait_for_item(self, run_id: str, sk: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (item := self.item(run_id, sk)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no item {run_id}/{sk} after {timeout} s")
            time.sleep(0.01)
        return item


@pytest.fixture
def deployed(test_stack: SynthesizedStack) -> Iterator[Deployed]:
    with AwsEmulator(wait_scale=0.0) as aws:
        deployment = aws.deploy(test_stack.template, stack_name=test_stack.stack_name)
        table = boto3.resource("dynamodb").Table(deployment.table_name("RunsTable"))
        yield Deployed(aws, deployment, boto3.client("stepfunctions"), table)
