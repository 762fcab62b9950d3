"""Configuration and definition errors fail synth with the field named."""

from __future__ import annotations

import copy
import json

import pytest
from aws_cdk import App, Stack, aws_lambda

from functions.rollbacks.registry import ROLLBACK_TYPES
from local.synth import base_context
from stacks.config import ConfigError, load_config
from stacks.constructs.workflow import RollbackWorkflow


def test_default_configuration_is_valid() -> None:
    config = load_config(base_context()["rollback"])
    assert config.type_config("kubernetes_app").environment()["CLUSTER_NAME"] == "skillancer-prod"
    assert {a.id for a in config.approvers} >= {"cto", "security", "eng-lead"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["approvers"][0].update(email="not-an-email"), "rollback.approvers.0.email"),
        (lambda c: c["approvers"].append(dict(c["approvers"][0])), "approvers: duplicate id(s) oncall-primary"),
        (
            lambda c: c["types"]["kubernetes_app"]["cluster"].pop("endpoint"),
            "rollback.types.kubernetes_app.cluster.endpoint",
        ),
        (lambda c: c["types"].update(time_machine={}), "types: unknown rollback type(s) time_machine"),
        (lambda c: c.update(types={}), "rollback.types: Dictionary should have at least 1 item"),
        (lambda c: c.update(approval_link_ttl_seconds=7200), "approval_link_ttl_seconds must be shorter"),
        (lambda c: c.update(surprise=True), "rollback.surprise"),
        (lambda c: c.update(lock_ttl_seconds=3000), "lock_ttl_seconds must outlive execution_timeout_seconds"),
        (lambda c: c.update(execution_timeout_seconds=1900), "execution_timeout_seconds must exceed"),
        (
            lambda c: c["verify_metrics"]["skillancer"][1].update(error_rate=True),
            "verify_metrics.skillancer: one query may be the error rate, not API error rate, API p95 latency",
        ),
        (
            lambda c: c["preserve_logs"]["skillancer"].update(log_groups=["/aws/app logs"]),
            "rollback.preserve_logs.skillancer.log_groups.0",
        ),
        (lambda c: c["preserve_logs"]["skillancer"].update(log_groups=[]), "rollback.preserve_logs.skillancer.log_"),
        (lambda c: c.update(incident_lead_seconds=-1), "rollback.incident_lead_seconds"),
    ],
)
def test_bad_configuration_names_the_field(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    # Given the default configuration with one mistake
    context = copy.deepcopy(base_context()["rollback"])
    mutate(context)
    # When it is loaded, Then the error names the field
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_config(context)


def test_workflow_refuses_a_definition_whose_placeholders_do_not_match_its_functions() -> None:
    stack = Stack(App(), "Test")
    function = aws_lambda.Function(
        stack, "F", runtime=aws_lambda.Runtime.PYTHON_3_11, handler="x.y", code=aws_lambda.Code.from_inline("x")
    )
    with pytest.raises(ValueError, match=r"placeholders without a function: .*'WriteReportFunctionArn'"):
        RollbackWorkflow(
            stack,
            "W",
            rollback_type=ROLLBACK_TYPES["kubernetes_app"],
            functions={"ValidateInputFunctionArn": function, "ExtraFunctionArn": function},
            log_retention=__import__("aws_cdk").aws_logs.RetentionDays.ONE_DAY,
            timeout_seconds=3000,
        )


def test_approver_sign_in_adds_an_mfa_user_pool_the_page_trusts() -> None:
    from aws_cdk.assertions import Annotations, Match

    from local.synth import synthesize

    # Given the stack synthesized with approver sign-in
    synthesized = synthesize({"approver_sign_in": True})
    resources = synthesized.template["Resources"]
    (pool,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPool"]
    # Then the pool takes no self sign-ups and requires MFA, and the page function knows its issuer and client
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    (page,) = [
        r["Properties"]
        for k, r in resources.items()
        if k.startswith("FunctionsApprovalPage") and r["Type"] == "AWS::Lambda::Function"
    ]
    variables = page["Environment"]["Variables"]
    assert {"IDP_ISSUER", "IDP_AUDIENCE", "IDP_AUTHORIZE_URL", "IDP_TOKEN_URL", "IDP_REDIRECT_URI"} <= set(variables)
    # and approvers sign in at the pool's managed login, on a Cognito prefix domain
    (domain,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolDomain"]
    assert domain["Domain"] == "rollbackpipeline-approvers" and domain["ManagedLoginVersion"] == 2
    assert [r for r in resources.values() if r["Type"] == "AWS::Cognito::ManagedLoginBranding"]
    # with the authorization-code flow only (PKCE, a public client), back to the API's callback
    (client,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolClient"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid"]
    assert client["GenerateSecret"] is False
    assert client["CallbackURLs"] == [variables["IDP_REDIRECT_URI"]]
    assert json.dumps(variables["IDP_REDIRECT_URI"]).endswith('/v1/auth/callback"]]}')
    assert client["IdTokenValidity"] <= 60
    paths = {r["Properties"].get("PathPart") for r in resources.values() if r["Type"] == "AWS::ApiGateway::Resource"}
    assert {"auth", "callback"} <= paths
    assert "SignInDomain" in "".join(synthesized.template.get("Outputs", {}))
    # and cdk-nag still has nothing to say
    assert Annotations.from_stack(synthesized.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []


@pytest.mark.parametrize(
    ("approval_email", "expected"),
    [
        (None, "rollback.approval_email: Field required"),
        ({"from_address": "rollbacks"}, "rollback.approval_email.from_address"),
        (
            {"from_address": "rollbacks@skillancer.com", "identity": "example.com"},
            "from_address: rollbacks@skillancer.com is not an address of the identity example.com",
        ),
    ],
)
def test_a_bad_approval_sender_names_the_field(approval_email: dict[str, str] | None, expected: str) -> None:
    context = copy.deepcopy(base_context()["rollback"])
    context.pop("approval_email")
    if approval_email is not None:
        context["approval_email"] = approval_email
    with pytest.raises(ConfigError, match=expected):
        load_config(context)


def test_the_sender_may_be_an_address_identity_or_on_a_subdomain_of_a_domain_identity() -> None:
    context = copy.deepcopy(base_context()["rollback"])
    context["approval_email"] = {"from_address": "ops@mail.skillancer.com", "identity": "skillancer.com"}
    assert load_config(context).approval_email.identity_name == "skillancer.com"
    context["approval_email"] = {"from_address": "ops@skillancer.com", "identity": "ops@skillancer.com"}
    assert load_config(context).approval_email.identity_name == "ops@skillancer.com"


def test_a_configuration_set_is_sent_with_and_is_part_of_the_permission() -> None:
    from local.synth import synthesize

    # Given the stack synthesized with an SES configuration set
    approval_email = {"from_address": "ops@skillancer.com", "identity": "ops@skillancer.com", "configuration_set": "cs"}
    resources = synthesize({"approval_email": approval_email}).template["Resources"]
    # Then the request step sends with it, and may send only through that identity and that configuration set
    (request,) = [
        r["Properties"] for k, r in resources.items()
        if k.startswith("FunctionsRequestApproval") and r["Type"] == "AWS::Lambda::Function"
    ]  # fmt: skip
    variables = request["Environment"]["Variables"]
    assert (variables["APPROVAL_EMAIL_FROM"], variables["APPROVAL_EMAIL_CONFIGURATION_SET"]) == (
        "ops@skillancer.com",
        "cs",
    )
    statements = [
        s for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "ses:SendEmail"
    ]  # fmt: skip
    assert len(statements) == 2
    for statement in statements:
        arns = sorted(json.dumps(resource) for resource in statement["Resource"])
        assert len(arns) == 2
        assert arns[0].endswith(':configuration-set/cs"]]}') and arns[1].endswith(':identity/ops@skillancer.com"]]}')


def test_functions_that_reach_the_database_run_in_the_configured_subnets() -> None:
    from aws_cdk.assertions import Annotations, Match

    from local.synth import synthesize

    # Given the point-in-time type placed in the database's subnets
    types = copy.deepcopy(base_context()["rollback"]["types"])
    types["database_pitr"]["network"] = {"subnet_ids": ["subnet-0a", "subnet-0b"], "security_group_ids": ["sg-0db"]}
    synthesized = synthesize({"types": types})
    functions = {
        name: r["Properties"]
        for name, r in synthesized.template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and name.startswith("FunctionsDatabasePitr")
    }
    placed = {name.removeprefix("FunctionsDatabasePitr")[:-8] for name, p in functions.items() if "VpcConfig" in p}
    # Then the functions that connect to the restored instance or the cluster run there, the others do not
    assert placed == {"CheckIntegrity", "Plan", "RestartApplication", "CheckRestart"}
    vpc = functions[next(n for n in functions if "CheckIntegrity" in n)]["VpcConfig"]
    assert vpc == {"SubnetIds": ["subnet-0a", "subnet-0b"], "SecurityGroupIds": ["sg-0db"]}
    # And cdk-nag accepts the network-interface policy they need
    assert Annotations.from_stack(synthesized.stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
