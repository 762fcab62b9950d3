"""The template deployer's intrinsic functions, on a hand-written template (the CDK stack covers the rest)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local.aws.emulator import AwsEmulator

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "prod"},
        "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/version"},
    },
    "Mappings": {"Sizes": {"prod": {"Memory": "512"}, "dev": {"Memory": "128"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "alerts-${Stage}"}}},
        "DevOnlyQueue": {"Type": "AWS::SQS::Queue", "Condition": "IsDev"},
        "Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True, "ContentBasedDeduplication": True}},
        "Provisioned": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
            },
        },
        "Widget": {
            "Type": "Custom::Widget",
            "DependsOn": "Topic",
            "Properties": {
                "Plain": {"Fn::Sub": "${AWS::StackName} in ${AWS::Region} (${AWS::AccountId}/${AWS::Partition})"},
                "Literal": {"Fn::Sub": "keep ${!Literal} and ${Topic.TopicName}"},
                "Mapped": {"Fn::Sub": ["${Name}-${Size}", {"Name": {"Ref": "Stage"}, "Size": "big"}]},
                "Second": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
                "Joined": {"Fn::Join": [":", [{"Ref": "Topic"}, {"Fn::GetAtt": ["Topic", "TopicName"]}]]},
                "Memory": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
                "Chosen": {"Fn::If": ["IsProd", "production", "development"]},
                "Dropped": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]},
                "List": ["kept", {"Fn::If": ["IsDev", "dev", {"Ref": "AWS::NoValue"}]}],
                "Suffix": {"Ref": "AWS::URLSuffix"},
            },
        },
    },
    "Outputs": {
        "TopicArn": {"Value": {"Ref": "Topic"}},
        "WidgetId": {"Value": {"Ref": "Widget"}},
        "DevQueue": {"Condition": "IsDev", "Value": {"Ref": "DevOnlyQueue"}},
    },
}


def test_intrinsics_conditions_and_parameters_resolve_like_cloudformation() -> None:
    with AwsEmulator() as aws:
        # Given a template using every supported intrinsic, When it is deployed
        deployment = aws.deploy(TEMPLATE, stack_name="Intrinsics")
        topic_arn = deployment.topic_arn("Topic")
        widget = deployment.find("Custom::Widget", "Widget")
        # Then the properties of a type moto does not know are resolved and recorded
        assert widget.properties == {
            "Plain": "Intrinsics in us-east-1 (123456789012/aws)",
            "Literal": "keep ${Literal} and alerts-prod",
            "Mapped": "prod-big",
            "Second": "b",
            "Joined": f"{topic_arn}:alerts-prod",
            "Memory": "512",
            "Chosen": "production",
            "List": ["kept"],
            "Suffix": "amazonaws.com",
        }
        # and it has a CloudFormation-like physical id
        assert widget.physical_id.startswith("Intrinsics-Widget-")
        # and the explicit name and condition were honoured
        assert topic_arn == "arn:aws:sns:us-east-1:123456789012:alerts-prod"
        assert "DevOnlyQueue" not in deployment.resources
        assert deployment.outputs == {"TopicArn": topic_arn, "WidgetId": widget.physical_id}
        # and the FIFO queue and the provisioned table were created as declared
        sqs: Any = boto3.client("sqs")
        fifo_url = deployment.queue_url("Fifo")
        assert fifo_url.endswith(".fifo")
        attributes = sqs.get_queue_attributes(QueueUrl=fifo_url, AttributeNames=["All"])["Attributes"]
        assert (attributes["FifoQueue"], attributes["ContentBasedDeduplication"]) == ("true", "true")
        table = boto3.client("dynamodb").describe_table(TableName=deployment.table_name("Provisioned"))["Table"]
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    # and the physical ids are deterministic: the same in the next emulator
    with AwsEmulator() as aws:
        assert aws.deploy(TEMPLATE, stack_name="Intrinsics").find("Custom::Widget", "Widget") == widget


def test_parameters_override_defaults_and_flip_conditions() -> None:
    with AwsEmulator() as aws:
        # Given the same template, When deployed with Stage=dev
        deployment = aws.deploy(TEMPLATE, stack_name="Dev", parameters={"Stage": "dev"})
        widget = deployment.find("Custom::Widget", "Widget").properties
        # Then the conditions and mappings follow the parameter
        assert (widget["Chosen"], widget["Dropped"], widget["List"], widget["Memory"]) == (
            "development",
            "x",
            ["kept", "dev"],
            "128",
        )
        assert deployment.outputs["DevQueue"] == deployment.queue_url("DevOnlyQueue")
        assert json.dumps(widget["Literal"]) == '"keep ${Literal} and alerts-dev"'
