"""What AwsEmulator promises about the process it runs in (documented in local/aws/emulator.py)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from local.aws.emulator import AwsEmulator


def test_a_client_created_before_the_emulator_is_intercepted() -> None:
    # Given a boto3 client created before the emulator starts (moto is already imported)
    early: Any = boto3.client("sns", region_name="us-east-1", aws_access_key_id="early", aws_secret_access_key="x")
    with AwsEmulator():
        # When it creates a topic
        early.create_topic(Name="made-early")
        # Then the topic is in the emulator, seen by clients created inside
        topics = boto3.client("sns").list_topics()["Topics"]
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in topics] == ["made-early"]


def test_fake_credentials_and_region_apply_inside_and_are_restored() -> None:
    before = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    with AwsEmulator():
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert {k: os.environ.get(k) for k in before} == before


def test_state_does_not_leak_between_consecutive_emulators() -> None:
    with AwsEmulator():
        boto3.client("sns").create_topic(Name="first")
        boto3.client("dynamodb").create_table(
            TableName="first",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with AwsEmulator():
        assert boto3.client("sns").list_topics()["Topics"] == []
        assert boto3.client("dynamodb").list_tables()["TableNames"] == []


def test_running_executions_are_stopped_when_the_emulator_ends() -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    # Given an execution waiting (in real time) when the emulator ends
    definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    with AwsEmulator(wait_scale=1.0) as aws:
        machine = aws.sfn.create_state_machine(
            name="hold", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        aws.sfn.start_execution(stateMachineArn=machine, name="held")
        (execution,) = stepfunctions_parser_backends["123456789012"]["us-east-1"].state_machines[0].executions
        assert execution.status == "RUNNING"
    # Then it was aborted, so its worker thread cannot act on the next emulator's backends
    assert execution.status == "ABORTED"


def test_two_emulators_never_run_at_once() -> None:
    with AwsEmulator():
        boto3.client("sns").create_topic(Name="still-here")
        # When a second one starts inside the first, Then it refuses
        with pytest.raises(RuntimeError, match="another AwsEmulator"), AwsEmulator():
            pass
        # and the first one is undisturbed
        assert len(boto3.client("sns").list_topics()["Topics"]) == 1
    # and after the first ends a new one may start
    with AwsEmulator():
        pass


def test_a_running_handlers_environment_is_seen_by_its_thread_only() -> None:
    import os
    import threading

    from local.aws.environment import thread_environment

    # Given the thread-aware environment the Lambda dispatch uses, and a handler thread inside its function's
    environment = thread_environment()
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def handler() -> None:
        with environment.of_function({"LOCKS_TABLE_NAME": "locks-of-this-function"}):
            seen["own"] = (os.environ.get("LOCKS_TABLE_NAME"), os.getenv("LOCKS_TABLE_NAME"))
            os.environ["SET_BY_HANDLER"] = "1"
            inside.set()
            done.wait(timeout=30)
        seen["after"] = os.environ.get("LOCKS_TABLE_NAME")

    region = os.environ.get("AWS_DEFAULT_REGION")
    worker = threading.Thread(target=handler)
    worker.start()
    assert inside.wait(timeout=30)
    # When another thread reads the environment while the handler runs
    # Then it sees the process's own environment: nothing of the function's, nothing cleared
    assert "LOCKS_TABLE_NAME" not in os.environ and "SET_BY_HANDLER" not in os.environ
    assert os.environ.get("AWS_DEFAULT_REGION") == region
    done.set()
    worker.join(timeout=30)
    # And the handler saw its own variables, which ended with it
    assert seen == {"own": ("locks-of-this-function", "locks-of-this-function"), "after": None}
