"""A rollback workflow: one ``state_machines/<type>.asl.json`` file, its Lambda functions, and exactly their grants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, aws_iam, aws_lambda, aws_logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

STATE_MACHINES_DIR = Path(__file__).resolve().parents[2] / "state_machines"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def definition_path(rollback_type: str) -> Path:
    return STATE_MACHINES_DIR / f"{rollback_type}.asl.json"


def placeholders(definition: str) -> set[str]:
    return set(PLACEHOLDER.findall(definition))


class RollbackWorkflow(Construct):
    """Loads the ASL file inline (``DefinitionBody.from_string``) and substitutes ``${<Name>FunctionArn}``.

    ``functions`` maps each placeholder name to its function. Every placeholder must be provided and every
    provided function must be used: a mismatch fails synth. The state machine may invoke those functions
    and nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rollback_type: str,
        functions: Mapping[str, aws_lambda.IFunction],
        log_retention: aws_logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rollback_type = rollback_type
        definition = definition_path(rollback_type).read_text()
        wanted, given = placeholders(definition), set(functions)
        if wanted != given:
            raise ValueError(
                f"{definition_path(rollback_type).name}: placeholders without a function: {sorted(wanted - given)}; "
                f"functions without a placeholder: {sorted(given - wanted)}"
            )
        self.state_machine_name = f"{Stack.of(self).stack_name}-{rollback_type.replace('_', '-')}"
        log_group = aws_logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={name: function.function_arn for name, function in functions.items()},
            tracing_enabled=True,
            timeout=Duration.hours(2),
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
