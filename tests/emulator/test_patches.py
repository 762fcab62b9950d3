"""One test per moto patch, and canaries that show moto's own behaviour is still broken (run them after a moto
upgrade: a failing canary says the patch it names may go)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws import ses
from local.aws.emulator import AwsEmulator
from local.aws.patches import FastClock, heartbeat_race_fix_disabled, moto_original
from local.aws.template import Deployment, FunctionError
from tests.emulator.handlers import basic
from tests.emulator.stack import SynthesizedStack

# The self-answering step has HeartbeatSeconds 3600: at this scale a lapsed heartbeat takes ~1 s.
CANARY_TIMEOUT_SCALE = 0.0003


@pytest.fixture
def fast_timeouts(test_stack: SynthesizedStack) -> Iterator[tuple[AwsEmulator, Deployment]]:
    with AwsEmulator(timeout_scale=CANARY_TIMEOUT_SCALE) as aws:
        yield aws, aws.deploy(test_stack.template, stack_name=test_stack.stack_name)


def self_answer(aws: AwsEmulator, deployment: Deployment, name: str, answer: str) -> dict[str, Any]:
    execution = aws.sfn.start_execution(
        stateMachineArn=deployment.state_machine_arn("Workflow"),
        name=name,
        input=json.dumps({"run_id": name, "mode": "self_answer", "answer": answer}),
    )["executionArn"]
    return aws.wait_for_execution(execution, timeout=15)


# --- heartbeat race -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["success", "failure"])
def test_an_answer_sent_while_the_lambda_runs_is_not_lost(
    fast_timeouts: tuple[AwsEmulator, Deployment], answer: str
) -> None:
    # Given a .waitForTaskToken step with a heartbeat whose Lambda answers its own token before returning
    aws, deployment = fast_timeouts
    started = time.monotonic()
    # When it runs
    result = self_answer(aws, deployment, f"fixed-{answer}", answer)
    # Then the answer ends the step at once (well before the ~1 s scaled heartbeat)
    assert time.monotonic() - started < 0.9
    if answer == "success":
        assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"approved": True, "by": "itself"})
    else:
        assert (result["status"], result["error"], result["cause"]) == ("FAILED", "Rejected", "answered by itself")


def test_heartbeat_race_canary_moto_still_loses_the_early_answer(fast_timeouts: tuple[AwsEmulator, Deployment]) -> None:
    # Given moto's own heartbeat handling (the race fix switched off)
    aws, deployment = fast_timeouts
    with heartbeat_race_fix_disabled():
        # When the Lambda answers its own token
        result = self_answer(aws, deployment, "canary", "success")
    # Then moto 5.2.5 lost the answer and the step ran into its heartbeat timeout. If this fails, moto fixed the
    # race: drop _setup_heartbeat_endpoint from local/aws/patches.py.
    assert result["status"] == "FAILED", "moto no longer loses early task answers: the heartbeat race patch may go"
    assert result["error"] == "States.HeartbeatTimeout"


def test_heartbeat_timeout_name_canary(fast_timeouts: tuple[AwsEmulator, Deployment]) -> None:
    # Given moto's own error naming for a lapsed heartbeat
    aws, deployment = fast_timeouts
    with heartbeat_race_fix_disabled(), moto_original("StateTaskServiceCallback._from_error"):
        result = self_answer(aws, deployment, "name-canary", "success")
    # Then moto 5.2.5 calls it States.Timeout (AWS: States.HeartbeatTimeout). If this fails, drop _from_error.
    assert result["error"] == "States.Timeout", "moto names heartbeat timeouts right now: the _from_error patch may go"


def test_send_task_failure_cause_canary(fast_timeouts: tuple[AwsEmulator, Deployment]) -> None:
    # Given moto's own SendTaskFailure response handler
    aws, deployment = fast_timeouts
    with moto_original("StepFunctionResponse.send_task_failure"):
        result = self_answer(aws, deployment, "cause-canary", "failure")
    # Then moto 5.2.5 drops the cause. If this fails, drop _send_task_failure.
    assert result["error"] == "Rejected"
    assert result.get("cause") in (None, ""), "moto keeps SendTaskFailure's cause now: the patch may go"


# --- executions that have not built their environment yet --------------------------------------------------


@pytest.fixture
def slow_starting_executions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen moto's window (a few ms) in which a RUNNING execution has no environment yet to 0.3 s."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    parse = ExecutionWorker._get_evaluation_entrypoint

    def slow_parse(self: Any) -> Any:
        time.sleep(0.3)
        return parse(self)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", slow_parse)


def _waiting_machine(sfn: Any) -> str:
    definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}
    return str(
        sfn.create_state_machine(
            name="hold", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
    )


@pytest.mark.usefixtures("slow_starting_executions")
def test_task_answers_and_stops_work_while_an_execution_is_still_starting() -> None:
    with AwsEmulator(wait_scale=1.0) as aws:
        # Given an execution that has just started (its worker is still parsing the definition)
        machine = _waiting_machine(aws.sfn)
        execution = aws.sfn.start_execution(stateMachineArn=machine, name="starting")["executionArn"]
        # When someone answers an unknown token, Then the answer is "invalid token", not a crash
        with pytest.raises(ClientError) as invalid:
            aws.sfn.send_task_success(taskToken="nobody", output="{}")
        assert invalid.value.response["Error"]["Code"] == "InvalidToken"
        # and stopping it aborts it
        aws.sfn.stop_execution(executionArn=execution)
        assert aws.wait_for_execution(execution, timeout=5)["status"] == "ABORTED"


@pytest.mark.usefixtures("slow_starting_executions")
def test_starting_execution_canary_moto_still_crashes() -> None:
    with AwsEmulator(wait_scale=1.0) as aws:
        machine = _waiting_machine(aws.sfn)
        aws.sfn.start_execution(stateMachineArn=machine, name="starting")
        # Given moto's own scan of running executions, When a token is answered while one is starting
        with moto_original("StepFunctionsParserBackend._get_executions"), pytest.raises(Exception) as crash:
            aws.sfn.send_task_success(taskToken="nobody", output="{}")
    # Then moto 5.2.5 crashes. If this fails, drop _get_executions (and check ExecutionWorker.stop).
    assert "InvalidToken" not in str(crash.value), "moto handles starting executions now: the patches may go"


# --- fast clock -------------------------------------------------------------------------------------------------


def test_fast_clock_overlaps_concurrent_sleeps_and_adds_sequential_ones() -> None:
    # Given two one-hour sleeps that overlap in real time (at scale 0 nothing overlaps: see FastClock)
    clock = FastClock(wait_scale=0.00005)
    barrier = threading.Barrier(2)

    def sleep_an_hour() -> None:
        barrier.wait()
        clock.sleep(3600)

    threads = [threading.Thread(target=sleep_an_hour) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # When they end, Then an hour passed, not two
    assert 3599 <= clock.offset_seconds < 3601
    # and a later sleep adds to it; a stopped caller's sleep does not
    clock.sleep(60)
    assert 3659 <= clock.offset_seconds < 3661
    assert clock.sleep(600, interrupt=threading.Event(), is_running=lambda: False) is False
    assert clock.offset_seconds < 3661
    assert clock.virtual_now() - dt.datetime.now(dt.UTC) > dt.timedelta(seconds=3658)


def test_fast_clock_scale_sleeps_that_fraction_in_real_time() -> None:
    clock = FastClock(wait_scale=0.002)
    started = time.monotonic()
    clock.sleep(100)
    assert 0.19 <= time.monotonic() - started < 1.0
    assert clock.offset_seconds >= 99


def test_wait_until_a_timestamp_two_hours_away_passes_on_the_virtual_clock() -> None:
    definition = {"StartAt": "Until", "States": {"Until": {"Type": "Wait", "TimestampPath": "$.until", "End": True}}}
    with AwsEmulator() as aws:
        # Given a Wait until a UTC timestamp two hours from now
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        machine = aws.sfn.create_state_machine(
            name="until", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        started = time.monotonic()
        execution = aws.sfn.start_execution(stateMachineArn=machine, name="u", input=json.dumps({"until": until}))
        # When it runs, Then it ends at once, and the virtual clock is at the timestamp
        assert aws.wait_for_execution(execution["executionArn"], timeout=5)["status"] == "SUCCEEDED"
        assert time.monotonic() - started < 2
        assert aws.virtual_now() >= dt.datetime.fromisoformat(until) - dt.timedelta(seconds=1)


# --- Lambda dispatch ----------------------------------------------------------------------------------------------


def _function(name: str, handler: str, colour: str = "") -> str:
    iam: Any = boto3.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return str(
        boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            Environment={"Variables": {"COLOUR": colour}},
        )["FunctionArn"]
    )


def _remembered(count: int, timeout: float = 5) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(basic.REMEMBERED) < count:
        assert time.monotonic() < deadline, f"{len(basic.REMEMBERED)} of {count} invocations arrived"
        time.sleep(0.01)
    return list(basic.REMEMBERED)


def test_asynchronous_invocation_runs_the_handler_in_a_thread() -> None:
    basic.REMEMBERED.clear()
    with AwsEmulator():
        _function("later", "tests.emulator.handlers.basic.remember", colour="amber")
        # When a function is invoked with InvocationType Event
        response = boto3.client("lambda").invoke(FunctionName="later", InvocationType="Event", Payload=b'{"n": 7}')
        # Then the call returns 202 and the handler runs, with its environment
        assert response["StatusCode"] == 202
        assert _remembered(1) == [{"event": {"n": 7}, "function": "later", "colour": "amber"}]


def test_sns_delivers_to_a_subscribed_function_in_process() -> None:
    basic.REMEMBERED.clear()
    with AwsEmulator():
        # Given a function subscribed to a topic
        arn = _function("subscriber", "tests.emulator.handlers.basic.remember")
        sns: Any = boto3.client("sns")
        topic = sns.create_topic(Name="news")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
        # When a message is published
        sns.publish(TopicArn=topic, Subject="hello", Message="world")
        # Then the handler got the SNS event (moto would need Docker for this without the patch)
        (delivery,) = _remembered(1)
    record = delivery["event"]["Records"][0]["Sns"]
    assert (record["Subject"], record["Message"]) == ("hello", "world")


def test_an_unserializable_result_is_a_marshal_error_like_on_lambda() -> None:
    with AwsEmulator():
        _function("sets", "tests.emulator.handlers.basic.unmarshallable")
        response = boto3.client("lambda").invoke(FunctionName="sets", Payload=b"{}")
        assert response["FunctionError"] == "Unhandled"
        assert json.loads(response["Payload"].read())["errorType"] == "Runtime.MarshalError"


def test_deployment_invoke_raises_function_errors_with_the_exception_class(deployed: Any) -> None:
    with pytest.raises(FunctionError) as error:
        deployed.deployment.invoke("WorkerFunction", {"action": "explode", "run_id": "x"})
    assert (error.value.error_type, error.value.error_message) == ("PermanentProblem", "run x cannot go on")


def test_stopping_an_execution_waiting_for_a_token_aborts_it_at_once(deployed: Any) -> None:
    # Given a run waiting for its approval token
    execution = deployed.start("stop-me")
    deployed.wait_for_item("stop-me", "token")
    # When it is stopped
    deployed.sfn.stop_execution(executionArn=execution, error="Operator", cause="changed my mind")
    # Then it is ABORTED straight away, as on AWS
    assert deployed.sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert deployed.aws.execution_events(execution)[-1]["type"] == "ExecutionAborted"


def test_stop_canary_moto_leaves_a_waiting_execution_running(deployed: Any) -> None:
    execution = deployed.start("stop-canary")
    # (once the Lambda has returned and the task is waiting: a stop that arrives earlier is seen by moto too)
    deadline = time.monotonic() + 10
    while "TaskSubmitted" not in [e["type"] for e in deployed.aws.execution_events(execution)]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.1)
    # Given moto's own StopExecution, When a run waiting for a token is stopped
    with moto_original("ExecutionWorker.stop"):
        deployed.sfn.stop_execution(executionArn=execution)
    time.sleep(0.2)
    # Then moto 5.2.5 still reports it RUNNING (until the task's timeout). If this fails, drop _worker_stop's wake-up.
    status = deployed.sfn.describe_execution(executionArn=execution)["status"]
    assert status == "RUNNING", "moto ends stopped callback tasks now: the stop patches may go"


# --- SES v2: both parts of a message kept, faults at the wire --------------------------------------------------

SIMPLE = {
    "Simple": {"Subject": {"Data": "Approve?"}, "Body": {"Text": {"Data": "text"}, "Html": {"Data": "<p>html</p>"}}}
}


def send_simple(to: str, **extra: Any) -> dict[str, Any]:
    ses: Any = boto3.client("sesv2")
    return dict(
        ses.send_email(FromEmailAddress="rollbacks@skillancer.com", Destination={"ToAddresses": [to]}, Content=SIMPLE,
                       **extra)
    )  # fmt: skip


def test_a_sent_message_keeps_its_text_and_html_parts_and_configuration_set() -> None:
    with AwsEmulator():
        ses.verify_identity("skillancer.com")
        message_id = send_simple("ann@example.com", ConfigurationSetName="alerts")["MessageId"]
        (sent,) = ses.sent_emails()
    assert (sent.message_id, sent.to, sent.subject) == (message_id, ["ann@example.com"], "Approve?")
    assert (sent.text, sent.html, sent.configuration_set) == ("text", "<p>html</p>", "alerts")


def test_ses_canary_moto_keeps_only_the_html_part() -> None:
    with AwsEmulator(), moto_original("SESV2Response.send_email"):
        ses.verify_identity("skillancer.com")
        send_simple("ann@example.com")
        (sent,) = ses.sent_emails()
    # If this fails, moto records the whole message now: the SES patch may go
    assert (sent.text, sent.html) == (None, "<p>html</p>"), "moto keeps the text part now"


def test_an_injected_ses_fault_answers_as_ses_and_sends_nothing() -> None:
    with AwsEmulator():
        ses.verify_identity("skillancer.com")
        ses.FAULTS.fail_next("MessageRejected", "Email address is not verified.", recipient="bob@example.com")
        ses.FAULTS.fail_next("TooManyRequestsException", "Maximum sending rate exceeded.", times=9)
        with pytest.raises(ClientError) as rejected:
            send_simple("bob@example.com")
        with pytest.raises(ClientError) as throttled:
            boto3.client("sesv2", config=Config(retries={"total_max_attempts": 1})).send_email(
                FromEmailAddress="rollbacks@skillancer.com", Destination={"ToAddresses": ["ann@example.com"]},
                Content=SIMPLE,
            )  # fmt: skip
        assert ses.sent_emails() == []
    assert (
        rejected.value.response["Error"]["Code"],
        rejected.value.response["ResponseMetadata"]["HTTPStatusCode"],
    ) == (
        "MessageRejected",
        400,
    )
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
