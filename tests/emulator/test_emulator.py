"""The embedded AWS emulator itself: each moto patch, reproduced by the behaviour it fixes (canaries for upgrades)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws.emulator import AwsEmulator

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


@pytest.fixture
def aws() -> Iterator[AwsEmulator]:
    with AwsEmulator(wait_scale=0.0) as emulator:
        yield emulator


def function(name: str, handler: str, environment: dict[str, str] | None = None) -> str:
    iam: Any = boto3.client("iam")
    try:
        role = iam.get_role(RoleName="test-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="test-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    return str(
        boto3.client("lambda").create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler=handler,
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18}, Environment={"Variables": environment or {}},
        )["FunctionArn"]
    )  # fmt: skip


def run(aws: AwsEmulator, definition: dict[str, Any], payload: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
    sfn: Any = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"sm-{time.monotonic_ns()}", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="run", input=json.dumps(payload))["executionArn"]
    return aws.wait_for_execution(execution, timeout=timeout)


def test_lambda_runs_the_real_handler_with_its_own_environment_then_restores(aws: AwsEmulator) -> None:
    # Given two functions with different environments
    function("blue", "tests.emulator.handlers.basic.echo_environment", {"COLOUR": "blue"})
    function("green", "tests.emulator.handlers.basic.echo_environment", {"COLOUR": "green"})
    client: Any = boto3.client("lambda")
    # When each is invoked
    blue = json.loads(client.invoke(FunctionName="blue", Payload=b'{"n": 1}')["Payload"].read())
    green = json.loads(client.invoke(FunctionName="green", Payload=b"{}")["Payload"].read())
    # Then each saw its own environment and context, and the process environment is back as it was
    assert blue == {"colour": "blue", "function": "blue", "event": {"n": 1}}
    assert green["colour"] == "green"
    assert "COLOUR" not in os.environ


def test_handler_exceptions_are_lambda_errors_that_retry_and_catch_match_by_class_name(aws: AwsEmulator) -> None:
    arn = function("flaky", "tests.emulator.handlers.basic.fail_twice")
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {
                "Type": "Task", "Resource": arn, "End": True,
                "Retry": [{"ErrorEquals": ["FlakyError"], "IntervalSeconds": 30, "MaxAttempts": 3, "BackoffRate": 2}],
            }
        },
    }  # fmt: skip
    started = time.monotonic()
    result = run(aws, definition, {"key": "retry-test"})
    # Then the third attempt succeeded and the 30 s + 60 s retry intervals took no real time
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {"attempts": 3}
    assert time.monotonic() - started < 5


def test_wait_state_of_an_hour_passes_instantly_with_the_fast_clock(aws: AwsEmulator) -> None:
    definition = {"StartAt": "Hour", "States": {"Hour": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    started = time.monotonic()
    assert run(aws, definition, {})["status"] == "SUCCEEDED"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fail", [False, True])
def test_callback_answered_while_the_lambda_still_runs_is_not_lost(aws: AwsEmulator, fail: bool) -> None:
    # Given a .waitForTaskToken task with a one-hour heartbeat whose Lambda answers its own token (moto 5.2.5 bug)
    function("answer", "tests.emulator.handlers.basic.answer_own_token")
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "answer", "Payload": {"token.$": "$$.Task.Token", "fail": fail}},
                "TimeoutSeconds": 7200, "HeartbeatSeconds": 3600, "End": True,
            }
        },
    }  # fmt: skip
    # When it runs, Then the outcome arrives at once, cause included (moto drops SendTaskFailure's cause unpatched)
    result = run(aws, definition, {}, timeout=10)
    if fail:
        assert (result["status"], result["error"], result["cause"]) == ("FAILED", "Refused", "because the test said so")
    else:
        assert json.loads(result["output"]) == {"answered": True}


def test_callback_timeout_scales_with_the_timeout_clock() -> None:
    with AwsEmulator(timeout_scale=0.001) as aws:
        function("silent", "tests.emulator.handlers.basic.echo_environment")
        definition = {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "silent", "Payload": {"token.$": "$$.Task.Token"}},
                    "TimeoutSeconds": 1800, "HeartbeatSeconds": 900, "End": True,
                }
            },
        }  # fmt: skip
        result = run(aws, definition, {}, timeout=10)
    assert result["status"] == "FAILED"
    assert result["error"] == "States.HeartbeatTimeout"  # moto 5.2.5 says States.Timeout unpatched


def test_threaded_server_serves_the_same_backends_to_other_clients() -> None:
    with AwsEmulator(serve=True) as aws:
        boto3.client("sns").create_topic(Name="in-process")
        assert aws.endpoint_url is not None
        remote: Any = boto3.client("sns", endpoint_url=aws.endpoint_url)
        assert [t["TopicArn"].rsplit(":", 1)[1] for t in remote.list_topics()["Topics"]] == ["in-process"]


def test_consecutive_emulators_start_empty() -> None:
    with AwsEmulator():
        boto3.client("sns").create_topic(Name="first")
    with AwsEmulator():
        assert boto3.client("sns").list_topics()["Topics"] == []
