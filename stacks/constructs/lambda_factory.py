"""The single way the stack makes a Lambda function: same runtime, architecture, logging, tracing and code."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, aws_lambda, aws_logs
from constructs import Construct

from stacks.constructs.bundling import ARCHITECTURE, RUNTIME, functions_code


class FunctionFactory(Construct):
    """Creates the pipeline's functions from handler paths in the ``functions`` package."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        log_retention: aws_logs.RetentionDays,
        common_environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._service_name = service_name
        self._log_retention = log_retention
        self._common_environment = dict(common_environment)
        self._code = functions_code()
        self.functions: dict[str, aws_lambda.Function] = {}

    def create(
        self,
        name: str,
        handler: str,
        *,
        description: str,
        environment: Mapping[str, str] | None = None,
        timeout_seconds: int = 30,
        memory_size: int = 256,
    ) -> aws_lambda.Function:
        """``handler`` is ``functions.handlers.<module>.<function>``."""
        # Evidence: kept when the stack is deleted (it still expires after the retention period).
        log_group = aws_logs.LogGroup(
            self, f"{name}Logs", retention=self._log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        function = aws_lambda.Function(
            self,
            name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self._code,
            handler=handler,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_size,
            tracing=aws_lambda.Tracing.ACTIVE,
            logging_format=aws_lambda.LoggingFormat.JSON,
            log_group=log_group,
            environment={
                **self._common_environment,
                "POWERTOOLS_SERVICE_NAME": self._service_name,
                "POWERTOOLS_METRICS_NAMESPACE": self._service_name,
                **(environment or {}),
            },
        )
        self.functions[name] = function
        return function
