"""The rollback pipeline stack: composes the constructs; holds no logic of its own."""

from __future__ import annotations

import json

from aws_cdk import (
    ArnFormat,
    Duration,
    Stack,
    aws_events,
    aws_events_targets,
    aws_iam,
    aws_lambda,
    aws_logs,
    aws_secretsmanager,
    aws_sqs,
)
from constructs import Construct

from functions.logic.decision_matrix import load_matrix
from functions.logic.rto import RTO_TARGET_SECONDS
from functions.rollbacks.contract import Permission
from functions.rollbacks.registry import ROLLBACK_TYPES
from functions.settings import ChangeStepSettings
from functions.settings import EnvironmentVariables as Env
from stacks.alarm_intake import intake_alarm_detail
from stacks.config import PipelineConfig
from stacks.constructs.approval_api import ApprovalApi, ApproverSignIn
from stacks.constructs.approval_email import ApprovalEmail
from stacks.constructs.cluster_access import ClusterAccessEntries
from stacks.constructs.housekeeping import tag_every_resource
from stacks.constructs.lambda_factory import FunctionFactory
from stacks.constructs.monitoring import PipelineMonitoring
from stacks.constructs.nag import suppress_documented_findings
from stacks.constructs.notifications import Notifications
from stacks.constructs.records import RecordsBucket
from stacks.constructs.state_store import StateStore
from stacks.constructs.type_permissions import grant_type_permissions, place_in_network
from stacks.constructs.workflow import RollbackWorkflow

SERVICE_NAME = "rollback-pipeline"
HANDLERS = "functions.handlers"
# The functions that write a report also close it out (error rate's peak, Logs Insights query of up to 30 s,
# incident update): more than the default 30 s, less than the 120 s the workflow gives a task.
REPORT_TIMEOUT_SECONDS = 100


class RollbackPipelineStack(Stack):
    """The spine's functions, tables, topics and approval page once; one workflow per configured rollback type
    (``rollback.types`` in ``cdk.json``, each registered in :mod:`functions.rollbacks.registry`)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        retention = aws_logs.RetentionDays(_retention_name(config.log_retention_days))
        store = StateStore(self, "State")
        topics = Notifications(self, "Notifications", war_room_emails=config.war_room_emails)
        approval_email = ApprovalEmail(self, "ApprovalEmail", config=config.approval_email)
        signing_secret = aws_secretsmanager.Secret(
            self,
            "ApprovalSigningKey",
            description="HMAC key that signs approval links",
            generate_secret_string=aws_secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        factory = FunctionFactory(
            self,
            "Functions",
            service_name=SERVICE_NAME,
            log_retention=retention,
            common_environment={Env.RTO_SECONDS: str(RTO_TARGET_SECONDS)},
        )
        tables_env: dict[str, str] = {
            Env.LOCKS_TABLE: store.locks.table_name,
            Env.APPROVALS_TABLE: store.approvals.table_name,
            Env.AUDIT_TABLE: store.audit.table_name,
        }
        approvers_env: dict[str, str] = {Env.APPROVERS: json.dumps([a.model_dump() for a in config.approvers])}

        validate = factory.create(
            "ValidateInput",
            f"{HANDLERS}.validate_input.handler",
            description="Validates rollback input; names the offending field",
            environment={
                Env.HEALTH_URLS: json.dumps({k: [str(u) for u in v] for k, v in config.health_urls.items()}),
                Env.APPROVAL_TIMEOUT_SECONDS: str(config.approval_timeout_seconds),
                Env.ESCALATE_AFTER_SECONDS: str(int(config.escalate_after_rto_share * RTO_TARGET_SECONDS)),
                Env.ESCALATION_ROLES: json.dumps(config.escalation_roles),
                **approvers_env,
            },
        )
        acquire_lock = factory.create(
            "AcquireLock", f"{HANDLERS}.locks.acquire_lock", description="Takes the rollback lock",
            environment={**tables_env, Env.LOCK_TTL_SECONDS: str(config.lock_ttl_seconds)},
        )  # fmt: skip
        release_lock = factory.create(
            "ReleaseLock", f"{HANDLERS}.locks.release_lock", description="Releases the rollback lock",
            environment=tables_env,
        )  # fmt: skip
        approval_env: dict[str, str] = {
            **tables_env,
            **approvers_env,
            Env.APPROVAL_SIGNING_SECRET: signing_secret.secret_arn,
            Env.APPROVAL_LINK_TTL_SECONDS: str(config.approval_link_ttl_seconds),
        }
        page = factory.create(
            "ApprovalPage", f"{HANDLERS}.approvals.approval_page_handler",
            description="Approval page: GET shows, POST decides", environment=approval_env,
        )  # fmt: skip
        api = ApprovalApi(self, "ApprovalApi", page_function=page, log_retention=retention)
        if config.approver_sign_in:
            sign_in = ApproverSignIn(
                self, "ApproverSignIn",
                domain_prefix=config.approver_sign_in_domain_prefix or f"{self.stack_name.lower()}-approvers",
                # the API's URL from its id alone: the page function cannot depend on the stage that invokes it
                api_base_url=str(config.approval_base_url or api.id_based_url),
            )  # fmt: skip
            for variable, value in sign_in.environment().items():
                page.add_environment(variable, value)
        escalate_approval = factory.create(
            "EscalateApproval", f"{HANDLERS}.approvals.escalate_approval",
            description="No quorum in time: notifies the next tier, keeps waiting", environment=approval_env,
        )  # fmt: skip
        request_approval = factory.create(
            "RequestApproval", f"{HANDLERS}.approvals.request_approval",
            description="Stores the task token and emails signed approval links",
            environment={**approval_env, Env.APPROVAL_BASE_URL: str(config.approval_base_url or api.base_url)},
        )  # fmt: skip
        verify_metrics = json.dumps(
            {
                name: [query.model_dump(mode="json") for query in queries]
                for name, queries in config.verify_metrics.items()
            }
        )
        verify = factory.create(
            "VerifyHealth", f"{HANDLERS}.verify_health.handler", description="Health endpoints must say healthy",
            environment={
                Env.VERIFY_TIMEOUT_SECONDS: str(config.verify_timeout_seconds),
                Env.VERIFY_HEALTHY_SAMPLES: str(config.verify_healthy_samples),
                Env.VERIFY_METRICS: verify_metrics,
            },
        )  # fmt: skip
        verify.add_environment(
            Env.VERIFY_SMOKE_TESTS, json.dumps({env: t.model_dump() for env, t in config.smoke_tests.items()})
        )
        if config.smoke_tests:
            verify.add_to_role_policy(
                aws_iam.PolicyStatement(
                    actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                    resources=[self.format_arn(service="codebuild", resource="project", resource_name=t.project)
                               for t in config.smoke_tests.values()],
                )
            )  # fmt: skip
        if config.verify_metrics:  # GetMetricData has no resource-level permissions
            verify.add_to_role_policy(aws_iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        # What closing out a record reads: the error-rate metric, the logs to keep, the incidents to close out.
        closing_env: dict[str, str] = {
            Env.VERIFY_METRICS: verify_metrics,
            Env.PRESERVE_LOGS: json.dumps(
                {name: logs.model_dump(mode="json") for name, logs in config.preserve_logs.items()}
            ),
            Env.INCIDENT_LEAD_SECONDS: str(config.incident_lead_seconds),
            Env.INCIDENTS_TABLE: store.incidents.table_name,
        }
        report = factory.create(
            "WriteReport", f"{HANDLERS}.write_report.handler", description="Timeline, RTO/RPO, post-mortem draft",
            environment={**tables_env, **closing_env, Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn},
            timeout_seconds=REPORT_TIMEOUT_SECONDS,
        )  # fmt: skip

        announce = factory.create(
            "AnnounceRollback", f"{HANDLERS}.announcements.handler",
            description="War room, status page and support told the rollback is starting",
            environment={Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn,
                         Env.AUDIT_TABLE: store.audit.table_name},
        )  # fmt: skip
        topics.notifications.grant_publish(announce)
        store.grant(store.audit, announce, "PutItem")  # claims each announcement once
        if config.slack_webhook_secret_name:
            webhook = aws_secretsmanager.Secret.from_secret_name_v2(
                self, "SlackWebhookUrl", config.slack_webhook_secret_name
            )
            webhook.grant_read(announce)
            announce.add_environment(Env.SLACK_WEBHOOK_SECRET, webhook.secret_arn)
        if config.statuspage:
            api_key = aws_secretsmanager.Secret.from_secret_name_v2(
                self, "StatuspageApiKey", config.statuspage.api_key_secret_name
            )
            api_key.grant_read(announce)
            announce.add_environment(Env.STATUSPAGE_API_KEY_SECRET, api_key.secret_arn)
            announce.add_environment(Env.STATUSPAGE_PAGE_ID, config.statuspage.page_id)
            announce.add_environment(Env.STATUSPAGE_API_BASE, str(config.statuspage.api_base).rstrip("/"))

        spine_functions = {
            "ValidateInputFunctionArn": validate,
            "AcquireLockFunctionArn": acquire_lock,
            "RequestApprovalFunctionArn": request_approval,
            "EscalateApprovalFunctionArn": escalate_approval,
            "AnnounceRollbackFunctionArn": announce,
            "VerifyHealthFunctionArn": verify,
            "WriteReportFunctionArn": report,
            "ReleaseLockFunctionArn": release_lock,
        }
        workflows: list[RollbackWorkflow] = []
        cluster_access = ClusterAccessEntries(self, "ClusterAccess")
        for name in config.types:
            rollback_type = ROLLBACK_TYPES[name]
            type_config = config.type_config(name)
            slice_functions = {}
            for slice_function in rollback_type.functions:
                created = factory.create(
                    f"{rollback_type.construct_id}{slice_function.name}",
                    slice_function.handler,
                    description=f"{rollback_type.name}: {slice_function.description}",
                    environment=dict(type_config.environment()),
                    memory_size=slice_function.memory_size,
                    timeout_seconds=slice_function.timeout_seconds,
                )
                if slice_function.changes_the_world:
                    # re-checks the approval record, and records each change in the audit trail as it happens
                    tables = ChangeStepSettings(
                        approvals_table_name=store.approvals.table_name, audit_table_name=store.audit.table_name
                    )
                    for variable, value in tables.as_environment().items():
                        created.add_environment(variable, value)
                    store.grant(store.approvals, created, "GetItem")
                    store.grant(store.audit, created, "PutItem", "Query")
                grant_type_permissions(created, type_config.permissions(slice_function.name))
                place_in_network(created, type_config.network_placement(slice_function.name))
                cluster_access.grant(created, type_config.cluster_access(slice_function.name))
                slice_functions[f"{slice_function.name}FunctionArn"] = created
            workflows.append(
                RollbackWorkflow(
                    self,
                    rollback_type.construct_id,
                    rollback_type=rollback_type,
                    log_retention=retention,
                    functions={**spine_functions, **slice_functions},
                    timeout_seconds=config.execution_timeout_seconds_of(name),
                )
            )

        cluster_access.output_rbac_namespaces()
        store.grant(store.locks, acquire_lock, "PutItem", "ConditionCheckItem", "GetItem")  # one transaction
        store.grant(store.audit, acquire_lock, "PutItem")  # the keys it took, for the clean-up after an abort
        store.grant(store.locks, release_lock, "DeleteItem")
        for function in (request_approval, escalate_approval, page):
            store.grant(store.approvals, function, "GetItem", "UpdateItem")
            store.grant(store.audit, function, "PutItem")
            signing_secret.grant_read(function)
        store.grant(store.approvals, request_approval, "PutItem")  # creates the request
        approval_email.grant_send(request_approval)  # one SES message per approver; the page sends nothing
        for workflow in workflows:
            workflow.grant_task_response(request_approval)  # a repeated request answers a decision made meanwhile
        approval_email.grant_send(escalate_approval)
        for workflow in workflows:
            workflow.grant_task_response(page)
            workflow.grant_task_response(escalate_approval)
            workflow.grant_read_history(report)
        store.grant(store.audit, report, "Query", "PutItem")  # reads the changes recorded as they happened
        topics.notifications.grant_publish(report)

        matrix = load_matrix()  # a bad decision matrix fails synth, naming the row and the field
        intake = factory.create(
            "Intake", f"{HANDLERS}.intake.handler", description="CloudWatch alarm -> decision matrix -> proposal",
            environment={
                Env.STATE_MACHINES: self.to_json_string(
                    {workflow.rollback_type: workflow.state_machine.state_machine_arn for workflow in workflows}
                ),
                Env.INCIDENTS_TABLE: store.incidents.table_name,
                Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn,
            },
        )  # fmt: skip
        for workflow in workflows:
            workflow.state_machine.grant_start_execution(intake)
        store.grant(store.incidents, intake, "GetItem", "PutItem", "UpdateItem")
        topics.notifications.grant_publish(intake)
        intake.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["cloudwatch:ListTagsForResource"],
                resources=[self.format_arn(service="cloudwatch", resource="alarm", resource_name="*",
                                           arn_format=ArnFormat.COLON_RESOURCE_NAME)],
            )
        )  # fmt: skip
        dead_letters = aws_sqs.Queue(
            self, "EventDeadLetters", enforce_ssl=True, encryption=aws_sqs.QueueEncryption.SQS_MANAGED,
            retention_period=Duration.days(14),
        )  # fmt: skip
        self._deliver_events(
            "AlarmStateChange", "Alarms the decision matrix knows, entering ALARM, start the rollback intake",
            source="aws.cloudwatch", detail_type="CloudWatch Alarm State Change",
            detail=intake_alarm_detail(matrix, config.intake_alarm_prefixes), target=intake,
            dead_letters=dead_letters, retry_attempts=4,
        )  # fmt: skip

        cleanup = factory.create(
            "CleanUpEndedRollback", f"{HANDLERS}.cleanup.handler",
            description="A stopped, timed-out or failed execution: close its approval, release its locks, report",
            environment={**tables_env, **closing_env, Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn},
            timeout_seconds=REPORT_TIMEOUT_SECONDS,
        )  # fmt: skip
        records = RecordsBucket(self, "Records")
        for keeper in (report, cleanup):
            records.grant_write_records(keeper)
            keeper.add_environment(Env.RECORDS_BUCKET, records.bucket.bucket_name)
            self._grant_closing_out(keeper, config, store)
        store.grant(store.approvals, cleanup, "GetItem", "UpdateItem")
        store.grant(store.locks, cleanup, "DeleteItem")
        store.grant(store.audit, cleanup, "Query", "PutItem")
        topics.notifications.grant_publish(cleanup)
        for workflow in workflows:
            workflow.grant_read_history(cleanup)
        self._deliver_events(
            "RollbackEnded", "A rollback execution that was stopped, timed out or failed is cleaned up",
            source="aws.states", detail_type="Step Functions Execution Status Change",
            detail={
                "status": ["ABORTED", "TIMED_OUT", "FAILED"],
                "stateMachineArn": [workflow.state_machine.state_machine_arn for workflow in workflows],
            },
            target=cleanup, dead_letters=dead_letters, retry_attempts=8,
        )  # fmt: skip
        PipelineMonitoring(
            self, "Monitoring", operations_emails=config.operations_emails,
            workflows={workflow.rollback_type: workflow.state_machine for workflow in workflows},
            functions=factory.functions, dead_letters=dead_letters, approval_stage=api.api.deployment_stage,
        )  # fmt: skip
        tag_every_resource(self, config.tags)
        suppress_documented_findings(self)

    def _grant_closing_out(self, function: aws_lambda.Function, config: PipelineConfig, store: StateStore) -> None:
        """What closing out a record reads and writes besides the records bucket: the error-rate metric, the
        configured log groups (queried), the incident the alarm opened (updated with the outcome, then kept closed as an
        item of its own)."""
        store.grant(store.incidents, function, "UpdateItem", "PutItem")  # closes the incident, keeps it closed
        if config.verify_metrics:  # GetMetricData has no resource-level permissions
            function.add_to_role_policy(aws_iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        groups = config.preserved_log_groups
        if not groups:
            return
        grant_type_permissions(
            function,
            [
                Permission(
                    ("logs:StartQuery",), "logs",
                    tuple(arn for group in groups for arn in (f"log-group:{group}", f"log-group:{group}:*")),
                    reason="StartQuery on exactly the log groups of preserve_logs: IAM names a log group with and "
                    "without the ':*' of its streams",
                ),
                Permission(
                    ("logs:GetQueryResults",), "logs", ("*",), scope="unscoped",
                    reason="GetQueryResults has no resource-level permission (a query is named by its id only)",
                ),
            ],
        )  # fmt: skip

    def _deliver_events(
        self,
        rule_id: str,
        description: str,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, object],
        target: aws_lambda.IFunction,
        dead_letters: aws_sqs.IQueue,
        retry_attempts: int,
    ) -> None:
        """An EventBridge rule delivering matching events to ``target``, retried, then kept in the dead letters."""
        aws_events.Rule(
            self,
            rule_id,
            description=description,
            event_pattern=aws_events.EventPattern(source=[source], detail_type=[detail_type], detail=detail),
            targets=[
                aws_events_targets.LambdaFunction(target, dead_letter_queue=dead_letters, retry_attempts=retry_attempts)
            ],
        )


def _retention_name(days: int) -> str:
    names = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
             60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}  # fmt: skip
    if days not in names:
        raise ValueError(f"log_retention_days must be one of {sorted(names)}")
    return names[days]
