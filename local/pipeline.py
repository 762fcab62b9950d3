"""The whole pipeline on 127.0.0.1: the synthesized stack deployed into moto, a fake Kubernetes cluster seeded
with skillancer-web and skillancer-api, their health endpoints, and the approval page behind a local gateway.

Tests and the drill drive rollbacks through it exactly as operators and approvers would: start an execution
(or fire an alarm into intake), read the approval emails, click the links, wait for the outcome.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import boto3

from functions.capabilities.kubernetes.settings import ClusterSettings
from functions.logic.report import REPORT_EVENT
from functions.settings import EnvironmentVariables as Env
from local.approval_gateway import ApprovalGateway
from local.aws import ses
from local.aws.emulator import AwsEmulator
from local.aws.template import Deployment
from local.fakes.doppler import FakeDoppler
from local.fakes.edge import MaintenancePage, seed_edge
from local.fakes.oidc import LocalOidcProvider
from local.fakes.slack import FakeSlackWebhook
from local.fakes.statuspage import FakeStatuspage
from local.kube.health_app import HealthApp
from local.kube.server import FakeKubernetes
from local.kube.skillancer import seed_skillancer
from local.mailbox import Email, Mailbox, SesOutbox
from local.service_logs import ServiceLogs
from local.service_metrics import ServiceMetrics
from local.synth import Synthesized, base_context

NAMESPACE = "production"
DEPLOYMENTS = ["skillancer-web", "skillancer-api"]


# skillancer's flags in Doppler (skillancer/prd) as the fake starts
FLAGS = {"FEATURE_SKILLPOD_ENABLED": "true", "FEATURE_NEW_MATCHING": "true", "MAINTENANCE_MODE": "false"}
TARGET_FIELDS = ("namespace", "deployments", "to_revision", "to_version")


def rollback_input(**changes: Any) -> dict[str, Any]:
    """A valid ``kubernetes_app`` input for the seeded cluster; ``changes`` override or (None) remove keys, those
    of the target (deployments, namespace, to_revision, to_version) inside ``target``."""
    data: dict[str, Any] = {
        "service": "skillancer",
        "environment": "production",
        "target": {"deployments": list(DEPLOYMENTS)},
        "reason": "v1.0.0 returns 500 on /health after the launch deploy",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Complete platform outage",
        "severity": "P0",
    }
    target = {**data["target"], **{k: changes.pop(k) for k in TARGET_FIELDS if k in changes}}
    data.update(changes)
    if "target" not in changes:
        data["target"] = {k: v for k, v in target.items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


def sending_identities(deployment: Deployment) -> list[str]:
    """The SES identities the stack's functions may send email from (the ``identity/<name>`` ARNs they are granted
    ``ses:SendEmail`` on)."""
    identities: set[str] = set()
    for policy in deployment.resources.values():
        if policy.type != "AWS::IAM::Policy":
            continue
        for statement in policy.properties["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "ses:SendEmail" in actions:
                identities |= {m.group(1) for r in resources if (m := re.search(r":identity/(.+)$", str(r)))}
    return sorted(identities)


@dataclass
class LocalPipeline:
    synthesized: Synthesized
    wait_scale: float = 0.01
    timeout_scale: float = 1.0
    serve_aws: bool = False
    approver_sign_in: bool = False  # a local OIDC provider whose ID tokens the approval page then requires
    seed: bool = True
    environment: dict[str, str] = field(default_factory=dict)  # every function's, e.g. a short verification window
    kube: FakeKubernetes = field(init=False)
    health: HealthApp = field(init=False)
    gateway: ApprovalGateway = field(init=False)
    aws: AwsEmulator = field(init=False)

    def __enter__(self) -> LocalPipeline:
        self._stack = ExitStack()
        self.kube = self._stack.enter_context(FakeKubernetes(cluster_name="skillancer-prod"))
        if self.seed:
            seed_skillancer(self.kube, namespace=NAMESPACE)
        self.health = self._stack.enter_context(HealthApp(self.kube, namespace=NAMESPACE))
        self.gateway = self._stack.enter_context(ApprovalGateway())
        self.slack = self._stack.enter_context(FakeSlackWebhook())
        self.statuspage = self._stack.enter_context(FakeStatuspage())
        self.doppler = self._stack.enter_context(FakeDoppler(values=dict(FLAGS)))  # feature_flag's provider
        self.aws = self._stack.enter_context(
            AwsEmulator(wait_scale=self.wait_scale, timeout_scale=self.timeout_scale, serve=self.serve_aws)
        )
        overrides = self._sign_in_overrides() if self.approver_sign_in else {}
        self.maintenance_page = self._stack.enter_context(MaintenancePage())  # edge's maintenance page
        overrides |= self._edge_site()
        secrets: Any = boto3.client("secretsmanager")
        slack_secret = secrets.create_secret(Name="war-room-slack-webhook", SecretString=self.slack.url)["ARN"]
        statuspage_key = secrets.create_secret(Name="statuspage-api-key", SecretString=self.statuspage.api_key)["ARN"]
        secrets.create_secret(Name="doppler/skillancer/prd", SecretString=self.doppler.token)
        self.deployment = self.aws.deploy(
            self.synthesized.template,
            environment_overrides={
                **self._cluster_environment(),
                Env.VERIFY_METRICS.value: self._verify_metrics_per_second(),
                Env.HEALTH_URLS.value: json.dumps({"skillancer": [self.health.url_for(d) for d in DEPLOYMENTS]}),
                Env.APPROVAL_BASE_URL.value: self.gateway.base_url,
                Env.SLACK_WEBHOOK_SECRET.value: slack_secret,
                Env.STATUSPAGE_API_BASE.value: self.statuspage.api_base,
                Env.STATUSPAGE_PAGE_ID.value: self.statuspage.page_id,
                Env.STATUSPAGE_API_KEY_SECRET.value: statuspage_key,
                **self._flag_providers(),
                **overrides,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                **self.environment,
            },
        )
        self.sfn: Any = boto3.client("stepfunctions")
        self.lambda_: Any = boto3.client("lambda")
        self.dynamodb: Any = boto3.client("dynamodb")
        self.gateway.connect(self.lambda_, self.deployment.function_name("FunctionsApprovalPage"))
        for identity in sending_identities(self.deployment):  # verified beforehand, as the stack expects
            ses.verify_identity(identity)
        self.ses_faults = ses.FAULTS
        self.approval_emails = SesOutbox()  # one message per person, through SES
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        self.notifications = Mailbox(sns, sqs, self.deployment.topic_arn("NotificationsRollbackNotifications"))
        self.metrics = self._stack.enter_context(ServiceMetrics(self.health, boto3.client("cloudwatch")))
        preserved = base_context()["rollback"].get("preserve_logs", {}).get("skillancer", {}).get("log_groups", [])
        self.service_logs = self._stack.enter_context(
            ServiceLogs(self.health, boto3.client("logs"), log_groups=preserved, deployments=DEPLOYMENTS)
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _verify_metrics_per_second(self) -> str:
        """The configured metric checks at 1-second periods, two of them: emulated time runs ~100 times faster than
        CloudWatch's minutes, and the emulated service publishes at 1-second resolution."""
        configured = base_context()["rollback"].get("verify_metrics", {})
        fast = {"period_seconds": 1, "periods": 2}
        return json.dumps({name: [{**query, **fast} for query in queries] for name, queries in configured.items()})

    def _cluster_environment(self) -> dict[str, str]:
        """The fake cluster in place of the configured EKS endpoint (what the kubernetes_app functions read)."""
        settings = ClusterSettings(cluster_name="skillancer-prod", cluster_endpoint=self.kube.url,
                                   cluster_ca_data=self.kube.ca_data)  # fmt: skip
        return {k: v for k, v in settings.as_environment().items() if k in ("CLUSTER_ENDPOINT", "CLUSTER_CA_DATA")}

    def _flag_providers(self) -> dict[str, str]:
        """The configured feature-flag providers, Doppler's API being the fake one."""
        providers = base_context()["rollback"]["types"].get("feature_flag", {}).get("providers", [])
        for binding in providers:
            if binding["provider"]["kind"] == "doppler":
                binding["provider"]["api_base"] = self.doppler.api_base
        return {"FEATURE_FLAG_PROVIDERS": json.dumps(providers)} if providers else {}

    def _edge_site(self) -> dict[str, str]:
        """The configured edge (zone, record, distribution, buckets) created in moto, with moto's ids and the local
        maintenance page in place of the configured ones."""
        configured = base_context()["rollback"]["types"].get("edge", {}).get("site")
        self.edge_site: dict[str, Any] = seed_edge(configured, self.maintenance_page.url) if configured else {}
        return {"EDGE_SITE": json.dumps(self.edge_site)} if configured else {}

    OIDC_CLIENT_ID = "approval-page"

    def _sign_in_overrides(self) -> dict[str, str]:
        """The approvers signed in at a local OIDC provider (Cognito's managed login has no emulator): the page
        function trusts its ID tokens and sends browsers through its authorization-code + PKCE sign-in."""
        approvers = base_context()["rollback"]["approvers"]
        self.oidc = self._stack.enter_context(
            LocalOidcProvider(self.OIDC_CLIENT_ID, {a["id"]: a["email"] for a in approvers})
        )
        redirect_uri = f"{self.gateway.base_url}auth/callback"
        self.oidc.redirect_uris.add(redirect_uri)
        for approver in approvers:
            approver["subject"] = self.oidc.subject_of(approver["id"])
        return {
            Env.IDP_ISSUER.value: self.oidc.issuer,
            Env.IDP_AUDIENCE.value: self.OIDC_CLIENT_ID,
            Env.IDP_JWKS_URL.value: self.oidc.jwks_url,
            Env.IDP_AUTHORIZE_URL.value: self.oidc.authorize_url,
            Env.IDP_TOKEN_URL.value: self.oidc.token_url,
            Env.IDP_REDIRECT_URI.value: redirect_uri,
            Env.APPROVERS.value: json.dumps(approvers),
        }

    def id_token(self, username: str) -> str:
        """An ID token of ``username`` from the local OIDC provider (as its token endpoint would issue it)."""
        return self.oidc.id_token(username)

    # --- starting rollbacks -------------------------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        return self.deployment.state_machine_arn("KubernetesApp")

    def start(self, payload: dict[str, Any] | str, name: str) -> str:
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return str(
            self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=body)["executionArn"]
        )

    def fire_alarm(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver a CloudWatch alarm event to intake, as the EventBridge rule would (its pattern is checked)."""
        return self._deliver(event, "AlarmStateChange", "FunctionsIntake")

    def stop(self, execution_arn: str) -> dict[str, Any]:
        """Stop an execution as an operator would, then deliver its status-change event as EventBridge would."""
        self.sfn.stop_execution(executionArn=execution_arn, error="Stopped", cause="stopped by the on-call")
        self.aws.wait_for_execution(execution_arn, timeout=30)
        return self.execution_ended(execution_arn)

    def execution_ended(self, execution_arn: str) -> dict[str, Any]:
        """The "Step Functions Execution Status Change" event of an ended execution (moto emits none), delivered
        to the clean-up through the rule's pattern."""
        execution = self.describe(execution_arn)
        detail = {
            "executionArn": execution_arn,
            "stateMachineArn": execution["stateMachineArn"],
            "name": execution["name"],
            "status": execution["status"],
            "startDate": int(execution["startDate"].timestamp() * 1000),
            "stopDate": int(execution["stopDate"].timestamp() * 1000) if execution.get("stopDate") else None,
            "input": execution.get("input"),
            "error": execution.get("error"),
            "cause": execution.get("cause"),
        }
        event = {
            "version": "0", "id": f"status-{execution['name']}",
            "detail-type": "Step Functions Execution Status Change", "source": "aws.states",
            "account": "123456789012", "time": str(execution.get("stopDate", "")),
            "region": "us-east-1", "resources": [execution_arn], "detail": detail,
        }  # fmt: skip
        return self._deliver(event, "RollbackEnded", "FunctionsCleanUpEndedRollback")

    def _deliver(self, event: dict[str, Any], rule_prefix: str, function_prefix: str) -> dict[str, Any]:
        from moto.events.models import EventPattern

        rule = self.deployment.find("AWS::Events::Rule", rule_prefix)
        pattern = json.loads(json.dumps(rule.properties["EventPattern"]))
        if not EventPattern.load(json.dumps(pattern)).matches_event(event):  # type: ignore[arg-type]
            return {"action": "not matched by the rule"}
        response = self.lambda_.invoke(
            FunctionName=self.deployment.function_name(function_prefix), Payload=json.dumps(event).encode()
        )
        result: dict[str, Any] = json.loads(response["Payload"].read())
        if "FunctionError" in response:
            raise RuntimeError(f"{function_prefix} failed: {result}")
        return result

    # --- following them -----------------------------------------------------------------------------------

    def describe(self, execution_arn: str) -> dict[str, Any]:
        return dict(self.sfn.describe_execution(executionArn=execution_arn))

    def wait(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        return dict(self.aws.wait_for_execution(execution_arn, timeout=timeout))

    def states_entered(self, execution_arn: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.aws.execution_events(execution_arn)
            if e["type"].endswith("StateEntered")
        ]

    def wait_for_state(self, execution_arn: str, state: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while state not in self.states_entered(execution_arn):
            if self.describe(execution_arn)["status"] != "RUNNING":
                raise AssertionError(f"execution ended before entering {state!r}: {self.describe(execution_arn)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"state {state!r} not entered within {timeout} s")
            time.sleep(0.02)

    def approval_requests(self, count: int, timeout: float = 30) -> list[Email]:
        """Wait until ``count`` approval emails have arrived in total; returns all of them."""
        deadline = time.monotonic() + timeout
        while len(self.approval_emails.received) < count:
            self.approval_emails.fetch()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.approval_emails.received)} of {count} approval emails arrived")
            time.sleep(0.02)
        return list(self.approval_emails.received)

    def approval_emails_so_far(self) -> int:
        """How many approval emails arrived so far: ``since`` of :meth:`link_for` for the next execution's."""
        self.approval_emails.fetch()
        return len(self.approval_emails.received)

    def link_for(self, approver_email: str, timeout: float = 30, *, since: int = 0) -> str:
        """The approval link emailed to ``approver_email`` (waits for the email to arrive), the newest among the
        emails received after the first ``since``."""
        deadline = time.monotonic() + timeout
        while True:
            self.approval_emails.fetch()
            for email in reversed(self.approval_emails.received[since:]):
                if email.recipient == approver_email and email.links:
                    return email.links[0]
            if time.monotonic() > deadline:
                raise LookupError(f"no approval email for {approver_email} within {timeout} s")
            time.sleep(0.02)

    def recorded_report(self, rollback_id: str) -> dict[str, Any] | None:
        """The report the workflow wrote to the audit table (every outcome writes one)."""
        table = self.deployment.table_name("StateAudit")
        items = self.dynamodb.query(
            TableName=table,
            KeyConditionExpression="rollback_id = :id",
            ExpressionAttributeValues={":id": {"S": rollback_id}},
        )["Items"]
        reports = [json.loads(i["detail"]["S"]) for i in items if i["event"]["S"] == REPORT_EVENT]
        return reports[-1] if reports else None

    def lock_holder(self, service: str = "skillancer", environment: str = "production") -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.deployment.table_name("StateLocks"), Key={"lock_key": {"S": f"{service}#{environment}"}}
        ).get("Item")
        return item["owner"]["S"] if item else None

    def images(self) -> dict[str, str]:
        return {
            name: self.kube.deployment(NAMESPACE, name)["spec"]["template"]["spec"]["containers"][0]["image"]
            for name in DEPLOYMENTS
        }

    def follow(self, execution_arn: str) -> Iterator[dict[str, Any]]:
        yield from self.aws.follow_execution(execution_arn)
