"""The approval page: API Gateway REST API in front of the page function. GET shows, POST decides."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack, aws_apigateway, aws_cognito, aws_lambda, aws_logs
from constructs import Construct

from functions.settings import EnvironmentVariables as Env

STAGE = "v1"
CALLBACK_PATH = "auth/callback"


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
                stage_name=STAGE,
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
        # Back from the approvers' sign-in (authorization code + PKCE): the same function, which holds the signing
        # key the sign-in state is checked with; it needs nothing more for this route.
        self.api.root.add_resource("auth").add_resource("callback").add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={"method.request.querystring.state": True},
        )

    @property
    def base_url(self) -> str:
        return self.api.url

    @property
    def id_based_url(self) -> str:
        """The stage's URL built from the API's id only (no dependency on the stage or its deployment)."""
        stack = Stack.of(self)
        return f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{STAGE}/"


class ApproverSignIn(Construct):
    """Optional identity provider for approvers: a Cognito user pool (no self sign-up, MFA required) with managed
    login on a Cognito prefix domain, and a public app client for the approval page: authorization-code flow with
    PKCE only (no implicit flow, no secret), scopes ``openid email``, the API's sign-in callback, short tokens."""

    def __init__(self, scope: Construct, construct_id: str, *, domain_prefix: str, api_base_url: str) -> None:
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
        self.redirect_uri = f"{api_base_url.rstrip('/')}/{CALLBACK_PATH}"
        self.client = self.pool.add_client(
            "ApprovalPage",
            auth_flows=aws_cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # a public client: PKCE, not a secret, protects the code
            o_auth=aws_cognito.OAuthSettings(
                flows=aws_cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[aws_cognito.OAuthScope.OPENID, aws_cognito.OAuthScope.EMAIL],
                callback_urls=[self.redirect_uri],
                default_redirect_uri=self.redirect_uri,
            ),
            supported_identity_providers=[aws_cognito.UserPoolClientIdentityProvider.COGNITO],
            id_token_validity=Duration.minutes(30),
            access_token_validity=Duration.minutes(30),
            refresh_token_validity=Duration.minutes(60),
            auth_session_validity=Duration.minutes(5),
            prevent_user_existence_errors=True,
        )
        self.domain = self.pool.add_domain(
            "Domain",
            cognito_domain=aws_cognito.CognitoDomainOptions(domain_prefix=domain_prefix),
            managed_login_version=aws_cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )
        # Managed login pages show only for an app client with a branding style: Cognito's own.
        aws_cognito.CfnManagedLoginBranding(
            self,
            "Branding",
            user_pool_id=self.pool.user_pool_id,
            client_id=self.client.user_pool_client_id,
            use_cognito_provided_values=True,
        )
        CfnOutput(self, "SignInDomain", value=self.domain.base_url(), description="Approvers' managed login")

    @property
    def issuer(self) -> str:
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.pool.user_pool_id}"

    def environment(self) -> dict[str, str]:
        """What the page function needs to trust the pool's ID tokens and to send browsers to sign in."""
        base = self.domain.base_url()
        return {
            Env.IDP_ISSUER: self.issuer,
            Env.IDP_AUDIENCE: self.client.user_pool_client_id,
            Env.IDP_AUTHORIZE_URL: f"{base}/oauth2/authorize",
            Env.IDP_TOKEN_URL: f"{base}/oauth2/token",
            Env.IDP_REDIRECT_URI: self.redirect_uri,
        }
