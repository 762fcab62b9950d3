"""The Step Functions calls the CLI makes, returning plain data; botocore's errors become :class:`CliError`.

A stack deploys one state machine per rollback type, ``<stack>-<suffix>``; this module knows them only as the
``{type name: suffix}`` it is given (from the registry), so it names no type itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

from rollback_cli.errors import AwsUnavailable, UsageError

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
    rollback_type: str | None = None  # the registered type whose state machine ran it
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


def _resource_name(arn: str) -> str:
    """The state machine's name in its ARN (``arn:aws:states:<region>:<account>:stateMachine:<name>``)."""
    return arn.rsplit(":", 1)[-1]


class StepFunctions:
    """The rollback workflows of one deployed stack, in AWS or behind ``endpoint_url``."""

    def __init__(
        self, *, stack: str, region: str | None, endpoint_url: str | None, suffixes: Mapping[str, str]
    ) -> None:
        self.stack = stack
        self._names = {rollback_type: f"{stack}-{suffix}" for rollback_type, suffix in suffixes.items()}
        self._client: SFNClient = boto3.client("stepfunctions", region_name=region, endpoint_url=endpoint_url)
        self._deployed: dict[str, str] | None = None  # state machine name -> ARN

    def _machines(self) -> dict[str, str]:
        if self._deployed is None:
            wanted = set(self._names.values())
            self._deployed = {
                machine["name"]: machine["stateMachineArn"]
                for page in self._client.get_paginator("list_state_machines").paginate()
                for machine in page["stateMachines"]
                if machine["name"] in wanted
            }
        return self._deployed

    def _missing(self, names: list[str]) -> UsageError:
        return UsageError(
            f"no state machine named {' or '.join(names)}: is the stack {self.stack!r} deployed in this region?"
        )

    def state_machine_arn(self, rollback_type: str) -> str:
        """The workflow of ``rollback_type`` (a registered type's name)."""
        name = self._names[rollback_type]
        arn = self._machines().get(name)
        if arn is None:
            raise self._missing([name])
        return arn

    def deployed(self) -> dict[str, str]:
        """``{type: state machine ARN}`` of the registered types this stack deploys (at least one)."""
        found = {kind: self._machines()[name] for kind, name in self._names.items() if name in self._machines()}
        if not found:
            raise self._missing(sorted(self._names.values()))
        return found

    def rollback_type_of(self, state_machine_arn: str) -> str | None:
        name = _resource_name(state_machine_arn)
        return next((kind for kind, machine in self._names.items() if machine == name), None)

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        response = self._client.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
        return response["executionArn"]

    def execution_arn(self, execution: str | None) -> str:
        """An ARN as is, the name of an execution of one of this stack's workflows, or (None) its latest."""
        if execution and execution.startswith("arn:"):
            return execution
        machines = self.deployed()
        if execution is None:
            latest = self.executions(limit=1)
            if not latest:
                raise UsageError(f"no rollback has run on {', '.join(sorted(machines.values()))} yet")
            return latest[0].arn
        candidates = [arn.replace(":stateMachine:", ":execution:", 1) + f":{execution}" for arn in machines.values()]
        if len(candidates) == 1:
            return candidates[0]  # describing it says whether it exists
        for candidate in candidates:
            try:
                self._client.describe_execution(executionArn=candidate)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                    raise
            else:
                return candidate
        raise UsageError(f"ExecutionDoesNotExist: no rollback named {execution!r} in stack {self.stack!r}")

    def executions(self, status: ExecutionStatusType | None = None, limit: int = 100) -> list[Execution]:
        """Of every deployed type, newest first, at most ``limit``."""
        filters: dict[str, Any] = {"statusFilter": status} if status else {}
        found = []
        for rollback_type, machine in self.deployed().items():
            pages = self._client.get_paginator("list_executions").paginate(
                stateMachineArn=machine, PaginationConfig={"MaxItems": limit}, **filters
            )
            found += [
                Execution(e["name"], e["executionArn"], e["status"], e["startDate"], e.get("stopDate"), rollback_type)
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
            rollback_type=self.rollback_type_of(e["stateMachineArn"]),
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
