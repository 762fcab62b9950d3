"""What the feature_flag functions may do on AWS: the configured token secrets and flag parameters, nothing else."""

from __future__ import annotations

import json

from functions.rollbacks.contract import Permission
from functions.rollbacks.feature_flag.config import FeatureFlagConfig
from local.synth import Synthesized, base_context

CONFIG = FeatureFlagConfig.model_validate(
    {
        "providers": [
            {"service": "skillancer", "environment": "production",
             "provider": {"kind": "doppler", "project": "skillancer", "config": "prd",
                          "token_secret_name": "doppler/skillancer/prd"}},
            {"service": "skillancer", "environment": "staging",
             "provider": {"kind": "ssm", "parameter_prefix": "/skillancer/staging/flags/"}},
        ]
    }
)  # fmt: skip


def test_readers_read_and_writers_may_also_put_only_the_configured_flags() -> None:
    secret = Permission(("secretsmanager:GetSecretValue",), "secretsmanager", ("secret:doppler/skillancer/prd-??????",))
    reason = "the flags are the parameters under the configured prefix"
    read = Permission(("ssm:GetParameter",), "ssm", ("parameter/skillancer/staging/flags/*",), reason)
    write = Permission(
        ("ssm:GetParameter", "ssm:PutParameter"), "ssm", ("parameter/skillancer/staging/flags/*",), reason
    )
    for function in ("Plan", "CheckFlags"):
        assert list(CONFIG.permissions(function)) == [secret, read]
    for function in ("SetFlag", "PutFlagsBack"):
        assert list(CONFIG.permissions(function)) == [secret, write]


def test_the_deployed_functions_get_the_configured_provider_and_read_only_its_token(synthesized: Synthesized) -> None:
    # Given cdk.json's skillancer/production provider (Doppler skillancer/prd)
    configured = base_context()["rollback"]["types"]["feature_flag"]["providers"]
    resources = synthesized.template["Resources"]
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and "FeatureFlag" in n}
    assert len(functions) == 4
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        providers = json.loads(variables["FEATURE_FLAG_PROVIDERS"])
        assert [(p["service"], p["environment"], p["provider"]["project"]) for p in providers] == [
            (c["service"], c["environment"], c["provider"]["project"]) for c in configured
        ]
    # Then their only Secrets Manager grant is reading that token's secret
    grants = [
        statement
        for policy in resources.values()
        if policy["Type"] == "AWS::IAM::Policy"
        and any("FeatureFlag" in r["Ref"] for r in policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager" in json.dumps(statement["Action"])
    ]
    assert grants and all(g["Action"] == "secretsmanager:GetSecretValue" for g in grants)
    assert all(json.dumps(g["Resource"]).endswith(':secret:doppler/skillancer/prd-??????"]]}') for g in grants)
