"""A small CDK stack built and synthesized inside the tests, so the emulator deploys real CDK output.

It holds what the deployer must handle: a DynamoDB table (GSI, TTL), an SNS topic with an SQS subscription,
two Lambda functions (Handler strings into ``tests.emulator.handlers``, dotted and slashed), a Standard state
machine whose ``DefinitionString`` is a ``Fn::Join`` carrying ``DefinitionSubstitutions``, a generated secret,
a KMS key, a log group, an EventBridge rule and a REST API (types the emulator only records).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STACK_NAME = "EmulatorTest"


@dataclass(frozen=True)
class SynthesizedStack:
    stack_name: str
    template: dict[str, Any]
    outdir: Path


def synthesize_test_stack() -> SynthesizedStack:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_secretsmanager as secretsmanager
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sns_subscriptions as subscriptions
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import aws_stepfunctions as sfn

    outdir = Path(tempfile.mkdtemp(prefix="emulator-synth-"))
    app = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=str(outdir))
    stack = cdk.Stack(app, STACK_NAME)

    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    table = dynamodb.Table(
        stack,
        "RunsTable",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute="expires_at",
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    table.add_global_secondary_index(
        index_name="by_sk", partition_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING)
    )
    topic = sns.Topic(stack, "ApprovalTopic")
    inbox = sqs.Queue(stack, "ApprovalInbox")
    topic.add_subscription(subscriptions.SqsSubscription(inbox, raw_message_delivery=True))
    secret = secretsmanager.Secret(
        stack,
        "SigningSecret",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            secret_string_template='{"user": "approver"}', generate_string_key="password", exclude_punctuation=True
        ),
    )

    code = lambda_.Code.from_asset(str(HERE / "handlers"), exclude=["__pycache__"])
    environment = {"TABLE_NAME": table.table_name, "ROLE": "worker", "SHARED": "from-worker"}
    worker = lambda_.Function(
        stack,
        "WorkerFunction",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="tests.emulator.handlers.worker.handler",
        code=code,
        memory_size=256,
        timeout=cdk.Duration.seconds(30),
        environment=environment,
    )
    approval = lambda_.Function(
        stack,
        "ApprovalFunction",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="tests/emulator/handlers/approval.handler",
        code=code,
        environment={
            "TABLE_NAME": table.table_name,
            "TOPIC_ARN": topic.topic_arn,
            "SECRET_ARN": secret.secret_arn,
            "ROLE": "approval",
        },
    )
    table.grant_read_write_data(worker)
    table.grant_read_write_data(approval)
    topic.grant_publish(approval)

    machine = sfn.StateMachine(
        stack,
        "Workflow",
        # The table name goes in as a token (DefinitionString becomes a Fn::Join with a Ref); the function ARNs
        # as DefinitionSubstitutions: the deployer must resolve both.
        definition_body=sfn.DefinitionBody.from_string(
            (HERE / "workflow.asl.json").read_text().replace("${TableName}", table.table_name)
        ),
        definition_substitutions={"WorkerArn": worker.function_arn, "ApprovalArn": approval.function_arn},
        state_machine_type=sfn.StateMachineType.STANDARD,
        logs=sfn.LogOptions(destination=logs.LogGroup(stack, "WorkflowLogs"), level=sfn.LogLevel.ALL),
    )
    worker.grant_invoke(machine)
    approval.grant_invoke(machine)

    events.Rule(
        stack,
        "AlarmRule",
        event_pattern=events.EventPattern(source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"]),
        targets=[targets.LambdaFunction(worker)],
    )
    api = apigw.RestApi(stack, "ApprovalApi", cloud_watch_role=False)
    api.root.add_method("GET", apigw.LambdaIntegration(approval))
    cdk.CfnOutput(stack, "WorkflowArn", value=machine.state_machine_arn)

    template = app.synth().get_stack_by_name(STACK_NAME).template
    return SynthesizedStack(stack_name=STACK_NAME, template=template, outdir=outdir)
