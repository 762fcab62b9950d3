"""The Step Functions calls the CLI makes, returning plain data; botocore's errors become :class:`CliError`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

from functions.cli.errors import AwsUnavailable, UsageError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.literals import ExecutionStatusType
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# Errors caused by what the operator asked for (exit 2), as opposed to AWS being unavailable (exit 3).
CALLER_ERRORS = frozenset(
    {
        "ExecutionDoesNotExist",
        "ExecutionAlreadyExists",
        "StateMachineDoesNotExist",
        "InvalidArn",
        "InvalidName",
        "InvalidExecutionInput",
        "ValidationException",
    }
)


@dataclass(frozen=True)
class Execution:
    name: str
    arn: str
    status: str
    started_at: datetime
    stopped_at: datetime | None = None
    # Only from describe_execution:
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL


def _json_object(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class StepFunctions:
    """The workflows of one deployed stack (``<stack>-kubernetes-app``), in AWS or behind ``endpoint_url``."""

    def __init__(self, *, stack: str, region: str | None, endpoint_url: str | None) -> None:
        self.stack = stack
        self._client: SFNClient = boto3.client("stepfunctions", region_name=region, endpoint_url=endpoint_url)
        self._machines: dict[str, str] = {}

    def state_machine_arn(self, rollback_type: str = "kubernetes_app") -> str:
        name = f"{self.stack}-{rollback_type.replace('_', '-')}"
        if name not in self._machines:
            for page in self._client.get_paginator("list_state_machines").paginate():
                for machine in page["stateMachines"]:
                    if machine["name"] == name:
                        self._machines[name] = machine["stateMachineArn"]
            if name not in self._machines:
                raise UsageError(f"no state machine named {name}: is the stack {self.stack!r} deployed in this region?")
        return self._machines[name]

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        response = self._client.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
        return response["executionArn"]

    def execution_arn(self, execution: str | None) -> str:
        """An ARN as is, a name of this stack's workflow, or (None) its latest execution."""
        if execution and execution.startswith("arn:"):
            return execution
        machine = self.state_machine_arn()
        if execution:
            return machine.replace(":stateMachine:", ":execution:", 1) + f":{execution}"
        latest = self.executions(limit=1)
        if not latest:
            raise UsageError(f"no rollback has run on {machine} yet")
        return latest[0].arn

    def executions(self, status: ExecutionStatusType | None = None, limit: int = 100) -> list[Execution]:
        """Newest first (as Step Functions lists them), at most ``limit``."""
        filters: dict[str, Any] = {"statusFilter": status} if status else {}
        pages = self._client.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn(), PaginationConfig={"MaxItems": limit}, **filters
        )
        found = [
            Execution(e["name"], e["executionArn"], e["status"], e["startDate"], e.get("stopDate"))
            for page in pages
            for e in page["executions"]
        ]
        return sorted(found, key=lambda e: e.started_at, reverse=True)[:limit]

    def describe(self, arn: str) -> Execution:
        e = self._client.describe_execution(executionArn=arn)
        return Execution(
            name=e["name"],
            arn=e["executionArn"],
            status=e["status"],
            started_at=e["startDate"],
            stopped_at=e.get("stopDate"),
            input=_json_object(e.get("input")),
            output=_json_object(e.get("output")),
            error=e.get("error"),
            cause=e.get("cause"),
        )

    def history(self, arn: str) -> list[HistoryEventTypeDef]:
        pages = self._client.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]


@contextmanager
def translated_errors() -> Iterator[None]:
    """botocore's exceptions as messages for the operator."""
    try:
        yield
    except NoRegionError:
        raise UsageError("no AWS region: pass --region or set AWS_REGION") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise UsageError("no AWS credentials: use a profile or set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY") from None
    except ClientError as error:
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Error"), details.get("Message", str(error))
        failure = UsageError if code in CALLER_ERRORS else AwsUnavailable
        raise failure(f"{code}: {message}") from None
    except BotoCoreError as error:
        raise AwsUnavailable(str(error)) from None
