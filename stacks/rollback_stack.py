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
    aws_logs,
    aws_secretsmanager,
    aws_sqs,
)
from constructs import Construct

from functions.logic.decision_matrix import load_matrix
from functions.logic.rto import RTO_TARGET_SECONDS
from functions.settings import EnvironmentVariables as Env
from stacks.config import PipelineConfig
from stacks.constructs.approval_api import ApprovalApi, ApproverSignIn
from stacks.constructs.lambda_factory import FunctionFactory
from stacks.constructs.nag import suppress_documented_findings
from stacks.constructs.notifications import Notifications
from stacks.constructs.state_store import StateStore
from stacks.constructs.workflow import RollbackWorkflow

SERVICE_NAME = "rollback-pipeline"
HANDLERS = "functions.handlers"


class RollbackPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        retention = aws_logs.RetentionDays(_retention_name(config.log_retention_days))
        store = StateStore(self, "State")
        topics = Notifications(
            self, "Notifications", approvers=config.approvers, war_room_emails=config.war_room_emails
        )
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
        cluster_env: dict[str, str] = {
            Env.CLUSTER_NAME: config.cluster.name,
            Env.CLUSTER_ENDPOINT: str(config.cluster.endpoint).rstrip("/"),
            Env.CLUSTER_CA_DATA: config.cluster.ca_data,
            Env.ROLLOUT_TIMEOUT_SECONDS: str(config.rollout_timeout_seconds),
        }

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
        k8s = {
            name: factory.create(
                name,
                f"{HANDLERS}.kubernetes_steps.{handler}",
                description=description,
                environment=cluster_env,
                memory_size=512,
            )
            for name, handler, description in [
                ("RunPrechecks", "run_prechecks", "Pre-checks: deployments, history, paused, feature flags"),
                ("RollBackDeployment", "roll_back_deployment", "kubectl rollout undo, with an optimistic lock"),
                ("CheckRollout", "check_rollout", "kubectl rollout status rules"),
                ("CheckPods", "check_pods", "Pod health of the new ReplicaSet"),
            ]
        }
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
            Env.APPROVAL_TOPIC: topics.approvals.topic_arn,
            Env.APPROVAL_SIGNING_SECRET: signing_secret.secret_arn,
            Env.APPROVAL_LINK_TTL_SECONDS: str(config.approval_link_ttl_seconds),
        }
        page = factory.create(
            "ApprovalPage", f"{HANDLERS}.approvals.approval_page_handler",
            description="Approval page: GET shows, POST decides", environment=approval_env,
        )  # fmt: skip
        api = ApprovalApi(self, "ApprovalApi", page_function=page, log_retention=retention)
        if config.approver_sign_in:
            sign_in = ApproverSignIn(self, "ApproverSignIn")
            page.add_environment(Env.IDP_ISSUER, sign_in.issuer)
            page.add_environment(Env.IDP_AUDIENCE, sign_in.client.user_pool_client_id)
        escalate_approval = factory.create(
            "EscalateApproval", f"{HANDLERS}.approvals.escalate_approval",
            description="No quorum in time: notifies the next tier, keeps waiting", environment=approval_env,
        )  # fmt: skip
        request_approval = factory.create(
            "RequestApproval", f"{HANDLERS}.approvals.request_approval",
            description="Stores the task token and emails signed approval links",
            environment={**approval_env, Env.APPROVAL_BASE_URL: str(config.approval_base_url or api.base_url)},
        )  # fmt: skip
        verify = factory.create(
            "VerifyHealth", f"{HANDLERS}.verify_health.handler", description="Health endpoints must say healthy",
            environment={Env.VERIFY_TIMEOUT_SECONDS: str(config.verify_timeout_seconds)},
        )  # fmt: skip
        report = factory.create(
            "WriteReport", f"{HANDLERS}.write_report.handler", description="Timeline, RTO/RPO, post-mortem draft",
            environment={**tables_env, Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn},
        )  # fmt: skip

        announce = factory.create(
            "AnnounceRollback", f"{HANDLERS}.announcements.handler",
            description="War room, status page and support told the rollback is starting",
            environment={Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn},
        )  # fmt: skip
        topics.notifications.grant_publish(announce)
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

        workflow = RollbackWorkflow(
            self,
            "KubernetesApp",
            rollback_type="kubernetes_app",
            log_retention=retention,
            functions={
                "ValidateInputFunctionArn": validate,
                "RunPrechecksFunctionArn": k8s["RunPrechecks"],
                "AcquireLockFunctionArn": acquire_lock,
                "RequestApprovalFunctionArn": request_approval,
                "EscalateApprovalFunctionArn": escalate_approval,
                "AnnounceRollbackFunctionArn": announce,
                "RollBackDeploymentFunctionArn": k8s["RollBackDeployment"],
                "CheckRolloutFunctionArn": k8s["CheckRollout"],
                "CheckPodsFunctionArn": k8s["CheckPods"],
                "VerifyHealthFunctionArn": verify,
                "WriteReportFunctionArn": report,
                "ReleaseLockFunctionArn": release_lock,
            },
        )

        k8s["RollBackDeployment"].add_environment(Env.APPROVALS_TABLE, store.approvals.table_name)
        store.approvals.grant_read_data(k8s["RollBackDeployment"])  # re-checks the approval before acting
        store.locks.grant_read_write_data(acquire_lock)
        store.locks.grant_read_write_data(release_lock)
        for function in (request_approval, escalate_approval, page):
            store.approvals.grant_read_write_data(function)
            store.audit.grant_write_data(function)
            signing_secret.grant_read(function)
        topics.approvals.grant_publish(request_approval)
        topics.approvals.grant_publish(escalate_approval)
        workflow.grant_task_response(page)
        workflow.grant_task_response(escalate_approval)
        store.audit.grant_write_data(report)
        topics.notifications.grant_publish(report)
        workflow.grant_read_history(report)

        load_matrix()  # a bad decision matrix fails synth, naming the row and the field
        intake = factory.create(
            "Intake", f"{HANDLERS}.intake.handler", description="CloudWatch alarm -> decision matrix -> proposal",
            environment={
                Env.STATE_MACHINES: self.to_json_string(
                    {workflow.rollback_type: workflow.state_machine.state_machine_arn}
                ),
                Env.INCIDENTS_TABLE: store.incidents.table_name,
                Env.NOTIFICATIONS_TOPIC: topics.notifications.topic_arn,
            },
        )  # fmt: skip
        workflow.state_machine.grant_start_execution(intake)
        store.incidents.grant_read_write_data(intake)
        topics.notifications.grant_publish(intake)
        intake.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["cloudwatch:ListTagsForResource"],
                resources=[self.format_arn(service="cloudwatch", resource="alarm", resource_name="*",
                                           arn_format=ArnFormat.COLON_RESOURCE_NAME)],
            )
        )  # fmt: skip
        dead_letters = aws_sqs.Queue(
            self, "IntakeDeadLetters", enforce_ssl=True, encryption=aws_sqs.QueueEncryption.SQS_MANAGED,
            retention_period=Duration.days(14),
        )  # fmt: skip
        aws_events.Rule(
            self,
            "AlarmStateChange",
            description="CloudWatch alarms entering ALARM start the rollback intake",
            event_pattern=aws_events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                detail={"state": {"value": ["ALARM"]}},
            ),
            targets=[aws_events_targets.LambdaFunction(intake, dead_letter_queue=dead_letters, retry_attempts=4)],
        )
        suppress_documented_findings(self)


def _retention_name(days: int) -> str:
    names = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
             60: "TWO_MONTHS", 90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}  # fmt: skip
    if days not in names:
        raise ValueError(f"log_retention_days must be one of {sorted(names)}")
    return names[days]
