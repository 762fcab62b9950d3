"""The pipeline watches itself: alarms on its own failures, sent to an operations topic, and a dashboard.

Alarms: each workflow's failed, timed-out and aborted executions; messages in the events' dead-letter queue (an
alarm or status-change event intake or the clean-up never handled); each function's errors and throttles; 5xx
answers of the approval API. Each alarm's name starts with :data:`PIPELINE_ALARM_PREFIX`, which the intake rule
never delivers, so the pipeline's own alarms cannot start a rollback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack, aws_apigateway, aws_iam, aws_kms, aws_lambda, aws_sns, aws_sqs
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.alarm_intake import PIPELINE_ALARM_PREFIX

PERIOD = Duration.minutes(5)
ALARMS_PER_STATUS_WIDGET = 100  # CloudWatch's limit for one alarm status widget


class PipelineMonitoring(Construct):
    """``workflows`` maps each rollback type to its state machine, ``functions`` each function's name to it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        operations_emails: Sequence[str],
        workflows: Mapping[str, sfn.StateMachine],
        functions: Mapping[str, aws_lambda.IFunction],
        dead_letters: aws_sqs.IQueue,
        approval_stage: aws_apigateway.Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.alarm_name_prefix = f"{PIPELINE_ALARM_PREFIX}{stack.stack_name}/"
        self.key = aws_kms.Key(
            self, "OperationsKey", description="Encrypts the rollback pipeline's operations alarms",
            enable_key_rotation=True,
        )  # fmt: skip
        # CloudWatch publishes the alarm notifications to the encrypted topic itself: it needs the key for that.
        self.key.grant(aws_iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = aws_sns.Topic(
            self, "OperationsAlarms", display_name="Rollback pipeline operations", master_key=self.key,
            enforce_ssl=True,
        )  # fmt: skip
        for email in operations_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms: list[cloudwatch.Alarm] = []

        for rollback_type, machine in workflows.items():
            for outcome, metric in (
                ("failed", machine.metric_failed()),
                ("timed-out", machine.metric_timed_out()),
                ("aborted", machine.metric_aborted()),
            ):
                self._alarm(
                    f"workflow/{rollback_type}/executions-{outcome}",
                    metric,
                    f"A {rollback_type} rollback execution ended {outcome.upper().replace('-', '_')}: read its "
                    "report and history (a rejected or expired approval also ends FAILED).",
                )
        self._alarm(
            "intake/dead-letters",
            dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD),
            "Events that intake or the clean-up could not handle after their retries wait in the dead-letter "
            "queue: read, fix, redrive.",
            threshold=0,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        for name, function in functions.items():
            self._alarm(f"lambda/{name}/errors", function.metric_errors(period=PERIOD), f"{name} raised errors.")
            self._alarm(f"lambda/{name}/throttles", function.metric_throttles(period=PERIOD), f"{name} was throttled.")
        self._alarm(
            "approval-api/5xx",
            approval_stage.metric_server_error(period=PERIOD),
            "The approval page answered 5xx: approvers may not be able to decide.",
        )
        self.dashboard = self._dashboard(stack.stack_name, workflows, functions, dead_letters, approval_stage)

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cloudwatch.Alarm:
        construct_id = "".join(part[:1].upper() + part[1:] for part in re.split(r"[/_-]", name) if part)
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self.alarm_name_prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def _dashboard(
        self,
        stack_name: str,
        workflows: Mapping[str, sfn.StateMachine],
        functions: Mapping[str, aws_lambda.IFunction],
        dead_letters: aws_sqs.IQueue,
        stage: aws_apigateway.Stage,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{stack_name}-operations")
        dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"{rollback_type}: executions by outcome",
                    width=12,
                    left=[
                        machine.metric_started(label="started"),
                        machine.metric_succeeded(label="succeeded"),
                        machine.metric_failed(label="failed"),
                        machine.metric_timed_out(label="timed out"),
                        machine.metric_aborted(label="aborted"),
                    ],
                )
                for rollback_type, machine in workflows.items()
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Approval API: 4xx and 5xx",
                width=8,
                left=[stage.metric_client_error(label="4xx"), stage.metric_server_error(label="5xx")],
            ),
            cloudwatch.GraphWidget(
                title="Approval API: latency (ms)",
                width=8,
                left=[
                    stage.metric_latency(statistic="p50", label="p50"),
                    stage.metric_latency(statistic="p95", label="p95"),
                    stage.metric_latency(statistic="Maximum", label="max"),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Events not delivered (dead-letter queue)",
                width=8,
                left=[dead_letters.metric_approximate_number_of_messages_visible(label="messages")],
                right=[dead_letters.metric_approximate_age_of_oldest_message(label="oldest (s)")],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                width=12,
                left=[function.metric_errors(label=name) for name, function in functions.items()],
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration p95 (ms)",
                width=12,
                left=[function.metric_duration(statistic="p95", label=name) for name, function in functions.items()],
            ),
        )
        for first in range(0, len(self.alarms), ALARMS_PER_STATUS_WIDGET):
            dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(
                    title="Pipeline alarms",
                    width=24,
                    height=8,
                    alarms=self.alarms[first : first + ALARMS_PER_STATUS_WIDGET],
                )
            )
        return dashboard
