"""The approval page: API Gateway REST API in front of the page function. GET shows, POST decides."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, aws_apigateway, aws_cognito, aws_lambda, aws_logs
from constructs import Construct


class ApprovalApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        page_function: aws_lambda.IFunction,
        log_retention: aws_logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        # Who opened which approval link, from where: kept when the stack is deleted (the audit trail refers to it).
        access_logs = aws_logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.api = aws_apigateway.RestApi(
            self,
            "Api",
            description="Rollback approval page (signed, expiring, single-use links)",
            # API Gateway's metrics are per API name: a name of its own keeps its alarms and dashboard to itself.
            rest_api_name=f"{Stack.of(self).stack_name}-approval-page",
            cloud_watch_role=True,
            # The role and AWS::ApiGateway::Account are account-wide: deleting this stack must not switch off API
            # Gateway logging for every API in the account.
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=aws_apigateway.StageOptions(
                stage_name="v1",
                tracing_enabled=True,
                logging_level=aws_apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request data would include the link's query string
                access_log_destination=aws_apigateway.LogGroupLogDestination(access_logs),
                access_log_format=aws_apigateway.AccessLogFormat.custom(
                    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                    '"method":"$context.httpMethod","resource":"$context.resourcePath",'
                    '"status":"$context.status","userAgent":"$context.identity.userAgent"}'
                ),
                throttling_rate_limit=10,
                throttling_burst_limit=20,
            ),
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=False
        )
        integration = aws_apigateway.LambdaIntegration(page_function)
        approval = self.api.root.add_resource("approvals").add_resource("{approval_id}")
        approval.add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={
                "method.request.path.approval_id": True,
                "method.request.querystring.a": True,
                "method.request.querystring.e": True,
                "method.request.querystring.n": True,
                "method.request.querystring.s": True,
            },
        )
        approval.add_method(
            "POST",
            integration,
            request_validator=validator,
            request_parameters={"method.request.path.approval_id": True},
        )

    @property
    def base_url(self) -> str:
        return self.api.url


class ApproverSignIn(Construct):
    """Optional identity provider for approvers: a Cognito user pool (no self sign-up, MFA required)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.pool = aws_cognito.UserPool(
            self,
            "Approvers",
            self_sign_up_enabled=False,
            sign_in_aliases=aws_cognito.SignInAliases(email=True, username=True),
            mfa=aws_cognito.Mfa.REQUIRED,
            mfa_second_factor=aws_cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=aws_cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=aws_cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=aws_cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=aws_cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.pool.add_client(
            "ApprovalPage",
            auth_flows=aws_cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            id_token_validity=Duration.minutes(60),
            prevent_user_existence_errors=True,
        )

    @property
    def issuer(self) -> str:
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"
