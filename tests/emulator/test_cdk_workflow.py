"""The emulator runs real CDK output: a stack synthesized in the test session, deployed into moto, executed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import boto3

from local.aws.emulator import AwsEmulator
from tests.emulator.conftest import Deployed
from tests.emulator.stack import SynthesizedStack

HOUR = 3600


def states_entered(deployed: Deployed, execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in deployed.aws.execution_events(execution_arn)
        if e["type"].endswith("StateEntered")
    ]


def test_deploy_creates_every_resource_with_resolved_intrinsics(deployed: Deployed) -> None:
    # Given the synthesized test stack, When it is deployed (fixture)
    deployment = deployed.deployment
    table_name = deployment.table_name("RunsTable")
    topic_arn = deployment.topic_arn("ApprovalTopic")
    worker_name = deployment.function_name("WorkerFunction")
    approval_name = deployment.function_name("ApprovalFunction")

    # Then the table has its keys, GSI and TTL
    table = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_sk"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    assert table_name.startswith("EmulatorTest-RunsTable")

    # and the functions keep Handler, Timeout, MemorySize and an environment with the Refs resolved
    lambda_: Any = boto3.client("lambda")
    worker = lambda_.get_function_configuration(FunctionName=worker_name)
    assert (worker["Handler"], worker["Timeout"], worker["MemorySize"]) == (
        "tests.emulator.handlers.worker.handler",
        30,
        256,
    )
    approval_env = lambda_.get_function_configuration(FunctionName=approval_name)["Environment"]["Variables"]
    assert approval_env["TABLE_NAME"] == table_name
    assert approval_env["TOPIC_ARN"] == topic_arn
    assert approval_env["SECRET_ARN"] == deployment.secret_arn("SigningSecret")

    # and the generated secret is the template with a generated password
    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=approval_env["SECRET_ARN"])["SecretString"]
    )
    assert secret["user"] == "approver" and len(secret["password"]) == 32 and secret["password"].isalnum()

    # and the state machine definition has its substitutions and its Fn::Join token resolved
    definition = json.loads(
        boto3.client("stepfunctions").describe_state_machine(stateMachineArn=deployed.workflow_arn)["definition"]
    )
    flaky = definition["States"]["Flaky"]["Parameters"]["FunctionName"]
    assert flaky == deployment.find("AWS::Lambda::Function", "WorkerFunction").arn
    assert definition["States"]["Done"]["Parameters"]["table"] == table_name
    assert deployment.outputs["WorkflowArn"] == deployed.workflow_arn

    # and the SNS topic delivers to the subscribed queue
    subscriptions = boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["sqs"]

    # and the types moto cannot run are recorded, with deterministic fake ids, not dropped
    (rule,) = deployment.events_rules
    assert rule.properties["EventPattern"]["source"] == ["aws.cloudwatch"]
    assert rule.properties["Targets"][0]["Arn"] == deployment.find("AWS::Lambda::Function", "WorkerFunction").arn
    api = deployment.find("AWS::ApiGateway::RestApi", "ApprovalApi")
    assert api.physical_id.startswith("EmulatorTest-ApprovalApi") and api.arn
    assert deployment.find("AWS::ApiGateway::Method", "ApprovalApiGET").properties["HttpMethod"] == "GET"


def test_approved_run_retries_waits_an_hour_maps_and_succeeds(deployed: Deployed) -> None:
    # Given a run whose first step glitches twice (Retry 30 s, x2 backoff) before an approval and an hour's soak
    started, virtual_start = time.monotonic(), deployed.aws.virtual_now()
    execution = deployed.start("happy", failures=2, items=["a", "b", "c"])

    # When we follow the execution live until the approval task is waiting, then approve it from outside
    entered: list[str] = []
    for event in deployed.aws.follow_execution(execution, poll=0.01, timeout=20):
        if event["type"].endswith("StateEntered"):
            entered.append(event["stateEnteredEventDetails"]["name"])
        if event["type"] == "TaskSubmitted" and entered[-1] == "Approval":
            token = deployed.wait_for_item("happy", "token")["token"]
            deployed.sfn.send_task_heartbeat(taskToken=token)
            deployed.sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True, "by": "alice"}))
    result = deployed.aws.wait_for_execution(execution, timeout=20)

    # Then it succeeded with the outputs of every step
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output == {
        "run_id": "happy",
        "attempts": 3,
        "approved_by": "alice",
        "recorded": [{"item": i, "stored": True} for i in ("a", "b", "c")],
        "table": deployed.deployment.table_name("RunsTable"),
    }
    assert entered[:5] == ["Route", "Flaky", "Approval", "Approved?", "Soak"]
    assert entered[-1] == "Done"
    # and the handlers really wrote to DynamoDB, each Map item through the worker function
    worker = deployed.deployment.function_name("WorkerFunction")
    assert [deployed.item("happy", f"item#{i}") for i in "abc"] == [
        {"pk": "happy", "sk": f"item#{i}", "by": worker} for i in "abc"
    ]
    assert deployed.item("happy", "token")["requested_by"] == deployed.deployment.function_name("ApprovalFunction")
    # and the approval request went out on SNS to the subscribed queue
    queue = deployed.deployment.queue_url("ApprovalInbox")
    (message,) = boto3.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
    assert json.loads(message["Body"])["run_id"] == "happy"
    # and 30 + 60 s of retries and an hour's Wait passed on the virtual clock, not the real one
    assert time.monotonic() - started < 10
    assert (deployed.aws.virtual_now() - virtual_start).total_seconds() >= HOUR + 90


def test_rejected_approval_is_caught_by_its_error_name_and_recorded(deployed: Deployed) -> None:
    # Given a run waiting for approval
    execution = deployed.start("rejected")
    token = deployed.wait_for_item("rejected", "token")["token"]
    # When the approver rejects it
    deployed.sfn.send_task_failure(taskToken=token, error="Rejected", cause="not during the sale")
    result = deployed.aws.wait_for_execution(execution, timeout=20)
    # Then Catch on "Rejected" recorded the error and cause, and the run failed in its Fail state
    assert (result["status"], result["error"]) == ("FAILED", "WorkflowFailed")
    failure = deployed.item("rejected", "failure")
    assert failure is not None
    assert (failure["error"], failure["cause"]) == ("Rejected", "not during the sale")
    assert states_entered(deployed, execution)[-2:] == ["Record failure", "Failed"]


def test_retries_exhaust_on_the_python_exception_class_then_catch(deployed: Deployed) -> None:
    # Given a first step that glitches more often than the Retry allows (1 attempt + 3 retries)
    virtual_start = deployed.aws.virtual_now()
    execution = deployed.start("exhausted", failures=10)
    # When it runs
    result = deployed.aws.wait_for_execution(execution, timeout=20)
    # Then the fourth TransientGlitch was caught and recorded with Lambda's error payload as the cause
    assert result["error"] == "WorkflowFailed"
    failure = deployed.item("exhausted", "failure")
    assert failure is not None and failure["error"] == "TransientGlitch"
    cause = json.loads(failure["cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("TransientGlitch", "attempt 4 glitched")
    assert cause["stackTrace"]
    assert deployed.item("exhausted", "attempts")["attempts"] == 4
    # and the 30 + 60 + 120 s of backoff went on the virtual clock
    assert (deployed.aws.virtual_now() - virtual_start).total_seconds() >= 210


def test_an_exception_not_in_retry_is_caught_at_once(deployed: Deployed) -> None:
    # Given a step whose handler raises PermanentProblem (its Retry only names TransientGlitch)
    execution = deployed.start("explode", mode="explode")
    # When it runs
    result = deployed.aws.wait_for_execution(execution, timeout=20)
    # Then it was attempted once and caught by States.ALL
    assert result["error"] == "WorkflowFailed"
    assert deployed.item("explode", "failure")["error"] == "PermanentProblem"
    scheduled = [e for e in deployed.aws.execution_events(execution) if e["type"] == "TaskScheduled"]
    assert len(scheduled) == 2  # Explode once, then Record failure
    assert states_entered(deployed, execution) == ["Route", "Explode", "Record failure", "Failed"]


def test_environment_variables_are_per_function_and_restored(test_stack: SynthesizedStack) -> None:
    # Given the stack deployed with an override for every function (as the drill points them at local endpoints)
    assert "ROLE" not in os.environ
    with AwsEmulator() as aws:
        deployment = aws.deploy(
            test_stack.template, stack_name=test_stack.stack_name, environment_overrides={"EXTRA": "x"}
        )
        names = ["ROLE", "SHARED", "EXTRA", "TABLE_NAME", "AWS_LAMBDA_FUNCTION_NAME"]
        results: dict[str, list[dict[str, Any]]] = {"WorkerFunction": [], "ApprovalFunction": []}

        def call(prefix: str) -> None:
            results[prefix].append(deployment.invoke(prefix, {"action": "probe", "names": names}))

        # When both functions are invoked concurrently, many times
        threads = [threading.Thread(target=call, args=(p,)) for p in ["WorkerFunction", "ApprovalFunction"] * 10]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Then every invocation saw its own function's environment, the override included
        table = deployment.table_name("RunsTable")
        for prefix, role, shared in (
            ("WorkerFunction", "worker", "from-worker"),
            ("ApprovalFunction", "approval", None),
        ):
            assert len(results[prefix]) == 10
            for result in results[prefix]:
                assert result["env"] == {
                    "ROLE": role,
                    "SHARED": shared,
                    "EXTRA": "x",
                    "TABLE_NAME": table,
                    "AWS_LAMBDA_FUNCTION_NAME": deployment.function_name(prefix),
                }
        probe = deployment.invoke("WorkerFunction", {"action": "probe"})
        assert probe["memory_limit_in_mb"] == 256
        assert probe["invoked_function_arn"] == deployment.find("AWS::Lambda::Function", "WorkerFunction").arn
        assert 29_000 < probe["remaining_ms"] <= 30_000
    # and the process environment is back as it was
    assert not {"ROLE", "SHARED", "EXTRA", "TABLE_NAME", "AWS_LAMBDA_FUNCTION_NAME"} & set(os.environ)


SEND_FROM_OUTSIDE = """
import boto3, json, sys
sfn = boto3.client("stepfunctions", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="outside", aws_secret_access_key="outside")
status = sfn.describe_execution(executionArn=sys.argv[2])["status"]
sfn.send_task_success(taskToken=sys.argv[3], output=json.dumps({"approved": True, "by": "outside"}))
print(status)
"""


def test_threaded_server_lets_another_process_answer_the_task_token(test_stack: SynthesizedStack) -> None:
    # Given the stack deployed in an emulator that also serves HTTP
    with AwsEmulator(serve=True) as aws:
        deployment = aws.deploy(test_stack.template, stack_name=test_stack.stack_name)
        sfn: Any = boto3.client("stepfunctions")
        execution = sfn.start_execution(
            stateMachineArn=deployment.state_machine_arn("Workflow"),
            name="outside",
            input=json.dumps({"run_id": "outside", "failures": 0, "items": ["x"]}),
        )["executionArn"]
        table = boto3.resource("dynamodb").Table(deployment.table_name("RunsTable"))
        deadline = time.monotonic() + 10
        while "Item" not in (item := table.get_item(Key={"pk": "outside", "sk": "token"})):
            assert time.monotonic() < deadline, "the approval handler never stored its token"
            time.sleep(0.01)
        # When another process, outside the mock, sends the task success to endpoint_url
        assert aws.endpoint_url is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        outside = subprocess.run(
            [sys.executable, "-c", SEND_FROM_OUTSIDE, aws.endpoint_url, execution, item["Item"]["token"]],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        assert outside.returncode == 0, outside.stderr
        result = aws.wait_for_execution(execution, timeout=20)
    # Then it saw the running execution, and its answer resumed the workflow to the end
    assert outside.stdout.strip() == "RUNNING"
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["approved_by"] == "outside"
