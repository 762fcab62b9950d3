"""A rollback workflow: the spine assembled with one type's states, its Lambda functions, and exactly their grants."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from aws_cdk import ArnFormat, RemovalPolicy, Stack, aws_iam, aws_lambda, aws_logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.rollbacks.contract import RollbackType
from stacks.definitions import assemble_file

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
TYPE_PLACEHOLDER = "RollbackType"


def placeholders(definition: str) -> set[str]:
    return set(PLACEHOLDER.findall(definition))


class RollbackWorkflow(Construct):
    """The assembled definition inline (``DefinitionBody.from_string``), ``${<Name>FunctionArn}`` substituted.

    ``functions`` maps each placeholder name to its function. Every placeholder must be provided and every
    provided function must be used: a mismatch fails synth. The state machine may invoke those functions
    and nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rollback_type: RollbackType,
        functions: Mapping[str, aws_lambda.IFunction],
        log_retention: aws_logs.RetentionDays,
        timeout_seconds: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rollback_type = rollback_type.name
        # The execution's timeout lives in the definition (CDK ignores ``timeout=`` for a definition from a string):
        # the configured one replaces the spine's default.
        definition = json.dumps({**assemble_file(rollback_type.asl_part), "TimeoutSeconds": timeout_seconds}, indent=2)
        wanted, given = placeholders(definition) - {TYPE_PLACEHOLDER}, set(functions)
        if wanted != given:
            raise ValueError(
                f"{rollback_type.name}: placeholders without a function: {sorted(wanted - given)}; "
                f"functions without a placeholder: {sorted(given - wanted)}"
            )
        self.state_machine_name = f"{Stack.of(self).stack_name}-{rollback_type.state_machine_suffix}"
        # Audit evidence: kept when the stack is deleted (it still expires after the retention period).
        log_group = aws_logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={
                TYPE_PLACEHOLDER: rollback_type.name,
                **{name: function.function_arn for name, function in functions.items()},
            },
            tracing_enabled=True,
            # Execution data stays out of the logs: task tokens travel in the approval step's parameters.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        for function in functions.values():
            function.grant_invoke(self.state_machine)

    def _arn(self, resource: str, resource_name: str) -> str:
        # Built from the fixed name rather than the resource, so functions the workflow itself invokes can be
        # granted access to it without a dependency cycle.
        return Stack.of(self).format_arn(
            service="states", resource=resource, resource_name=resource_name, arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

    def grant_task_response(self, grantee: aws_iam.IGrantable) -> None:
        """SendTaskSuccess/Failure for this workflow's task tokens."""
        aws_iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
            resource_arns=[self._arn("stateMachine", self.state_machine_name)],
        )

    def grant_read_history(self, grantee: aws_iam.IGrantable) -> None:
        aws_iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["states:GetExecutionHistory", "states:DescribeExecution"],
            resource_arns=[self._arn("execution", f"{self.state_machine_name}:*")],
        )
