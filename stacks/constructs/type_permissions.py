"""What a rollback type's functions may do on AWS beyond the spine's grants, as its configuration declares it
(:meth:`functions.rollbacks.contract.TypeConfig.permissions`): one statement per permission, on the resources it
names, in this stack's partition, region and account. A wildcard is accepted only with the reason the type gives."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack, aws_iam, aws_lambda
from cdk_nag import NagPackSuppression, NagSuppressions

from functions.rollbacks.contract import NetworkPlacement, Permission
from stacks.constructs.nag import ACCOUNT, ARN_PREFIX, REGION


def grant_type_permissions(function: aws_lambda.Function, permissions: Sequence[Permission]) -> None:
    stack = Stack.of(function)
    for permission in permissions:
        function.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=list(permission.actions),
                resources=["*"]
                if permission.scope == "unscoped"
                else [
                    stack.format_arn(
                        service=permission.service,
                        resource=resource,
                        arn_format=ArnFormat.NO_RESOURCE_NAME,
                        **_scope(permission),
                    )
                    for resource in permission.resources
                ],
            )
        )
        wildcards = [resource for resource in permission.resources if "*" in resource]
        if not wildcards:
            continue
        region = "" if permission.scope != "regional" else REGION
        account = "" if permission.scope == "global" else ACCOUNT
        arn_prefix = f"{ARN_PREFIX}:{permission.service}:{region}:{account}"
        if not permission.reason:
            raise ValueError(f"{function.node.id}: {', '.join(wildcards)} needs a reason for its wildcard")
        NagSuppressions.add_resource_suppressions(
            function,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason=f"{permission.service}: {permission.reason}",
                    # the ARN in both forms: tokens (no region given) and literals (the CDK CLI sets one)
                    applies_to=["Resource::*"]
                    if permission.scope == "unscoped"
                    else [{"regex": f"/^Resource::{arn_prefix}:{re.escape(resource)}$/g"} for resource in wildcards],
                )
            ],
            apply_to_children=True,
        )


def _scope(permission: Permission) -> dict[str, str]:
    """Global services' ARNs have no region (CloudFront), or neither region nor account (Route 53, S3)."""
    if permission.scope == "global":
        return {"region": "", "account": ""}
    return {"region": ""} if permission.scope == "account" else {}


def place_in_network(function: aws_lambda.Function, placement: NetworkPlacement | None) -> None:
    """Runs ``function`` in the configured subnets and security groups (existing ones, named by id: the stack
    creates no network), with the managed policy Lambda needs for its network interfaces."""
    if placement is None:
        return
    cfn = function.node.default_child
    assert isinstance(cfn, aws_lambda.CfnFunction)
    cfn.add_property_override(
        "VpcConfig", {"SubnetIds": placement.subnet_ids, "SecurityGroupIds": placement.security_group_ids}
    )
    assert function.role is not None
    function.role.add_managed_policy(
        aws_iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
    )
