"""cdk-nag findings this design accepts on purpose, each with its reason. Everything else must be fixed."""

from __future__ import annotations

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions

ARN_PREFIX = "arn:(<AWS::Partition>|aws[a-z-]*)"
REGION = "(<AWS::Region>|[a-z]{2}(-[a-z]+)+-\\d)"
ACCOUNT = "(<AWS::AccountId>|\\d{12})"

STACK_WIDE = [
    NagPackSuppression(
        id="AwsSolutions-IAM4",
        reason="Lambda functions use AWSLambdaBasicExecutionRole to write their own logs; "
        "API Gateway's account role uses AmazonAPIGatewayPushToCloudWatchLogs; functions placed in a VPC use "
        "AWSLambdaVPCAccessExecutionRole for their network interfaces.",
        applies_to=[
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-IAM5",
        reason="Resource::* appears only on X-Ray, Step Functions log-delivery, CloudWatch GetMetricData and Logs "
        "Insights GetQueryResults APIs, which have no "
        "resource-level permissions (a test checks this); Lambda invoke grants include the functions' versions "
        "(arn:*); the report reads the history of this workflow's executions only (name:*); intake reads the "
        "tags of any alarm (alarm:*), since the decision matrix classifies alarms by tag; "
        "kms:GenerateDataKey*/ReEncrypt* are CDK's grant shapes for the table and topic keys.",
        applies_to=[
            "Resource::*",
            "Action::kms:GenerateDataKey*",
            "Action::kms:ReEncrypt*",
            {"regex": "/^Resource::<Functions[A-Za-z0-9]+\\.Arn>:\\*$/g"},
            # Both forms: the tokens (no region given) and the literals the CDK CLI synthesizes (it always sets one).
            {"regex": f"/^Resource::{ARN_PREFIX}:states:{REGION}:{ACCOUNT}:execution:.+:\\*$/g"},
            {"regex": f"/^Resource::{ARN_PREFIX}:cloudwatch:{REGION}:{ACCOUNT}:alarm:\\*$/g"},
        ],
    ),
    NagPackSuppression(
        id="AwsSolutions-L1",
        reason="Functions run on Python 3.11, the version the test suite and the local drill run on.",
    ),
    NagPackSuppression(
        id="AwsSolutions-SMG4",
        reason="Rotating the link-signing key would invalidate approval links in flight during an incident; "
        "it is rotated by hand between incidents (see README).",
    ),
    NagPackSuppression(
        id="AwsSolutions-APIG2",
        reason="Query parameters are validated by API Gateway; the form body is validated by the page function.",
    ),
    NagPackSuppression(
        id="AwsSolutions-APIG3",
        reason="Low-volume approval page with signed single-use links and stage throttling; WAF adds cost "
        "without protecting anything the signature check does not.",
    ),
    NagPackSuppression(
        id="AwsSolutions-APIG4",
        reason="Approvers are authenticated by an HMAC-signed, expiring link bound to their identity; an "
        "identity provider authorizer is optional configuration.",
    ),
    NagPackSuppression(
        id="AwsSolutions-COG4",
        reason="See APIG4: signed approval links authenticate the approver.",
    ),
    NagPackSuppression(
        id="AwsSolutions-SQS3",
        reason="This queue is itself the dead-letter queue of the intake rule.",
    ),
]


def suppress_documented_findings(stack: Stack) -> None:
    NagSuppressions.add_stack_suppressions(stack, STACK_WIDE, apply_to_nested_stacks=True)
