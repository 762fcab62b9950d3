"""A second rollback type, added without touching the spine: registered next to kubernetes_app, it deploys as its
own state machine from the same spine and runs end to end on the emulators (validate, plan, lock, approve on the
page, announce, its own step, verify, report, release)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.rollbacks import registry
from local import approver
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized, base_context, synthesize
from tests.rollback_types import ssm_parameter

RC5 = "registry.example.com/skillancer-web:v1.0.0-rc.5"
PARAMETER = "/skillancer/production/checkout-provider"


@pytest.fixture(scope="module")
def registered() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.ROLLBACK_TYPES, "ssm_parameter", ssm_parameter.ROLLBACK_TYPE)
        yield


@pytest.fixture(scope="module")
def synthesized_with_both(registered: None) -> Synthesized:
    types = {**base_context()["rollback"]["types"], "ssm_parameter": {}}
    return synthesize({"types": types})


@pytest.fixture
def pipeline(synthesized_with_both: Synthesized) -> Iterator[LocalPipeline]:
    with LocalPipeline(synthesized_with_both) as running:
        yield running


def rollback_input(**changes: Any) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": {"names": [PARAMETER]},
        "reason": "the new checkout provider declines every card",
        "requested_by": "sre-on-duty@skillancer.com",
        **changes,
    }


def test_each_configured_type_is_its_own_state_machine_on_the_same_spine(synthesized_with_both: Synthesized) -> None:
    machines = {
        r["Properties"]["StateMachineName"]: r["Properties"]
        for r in synthesized_with_both.template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
    }
    configured = {f"RollbackPipeline-{name.replace('_', '-')}" for name in base_context()["rollback"]["types"]}
    assert set(machines) == configured | {"RollbackPipeline-ssm-parameter"}
    ssm = json.loads(machines["RollbackPipeline-ssm-parameter"]["DefinitionString"])
    assert ssm["States"]["Announce rollback"]["Next"] == "Restore parameters"
    assert machines["RollbackPipeline-ssm-parameter"]["DefinitionSubstitutions"]["RollbackType"] == "ssm_parameter"


def test_the_test_only_type_rolls_back_through_the_spine(pipeline: LocalPipeline) -> None:
    # Given a parameter whose latest version broke checkout, and a healthy service to verify
    ssm: Any = boto3.client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value="provider-a", Type="String")
    ssm.put_parameter(Name=PARAMETER, Value="provider-b", Type="String", Overwrite=True)
    for deployment in ("skillancer-web", "skillancer-api"):
        pipeline.kube.apply_deployment(NAMESPACE, deployment, image=RC5.replace("skillancer-web", deployment))
    pipeline.kube.settle()
    health = [pipeline.health.url_for("skillancer-web")]
    # When its rollback is started and on-call and lead approve on the page
    arn = pipeline.deployment.state_machine_arn("SsmParameter")
    execution = pipeline.sfn.start_execution(
        stateMachineArn=arn, name="ssm-1", input=json.dumps(rollback_input(health_urls=health))
    )["executionArn"]
    pipeline.wait_for_state(execution, "Request approval")
    on_call = pipeline.link_for("oncall-primary@skillancer.com")
    page = approver.view(on_call)
    assert "parameter " + PARAMETER in page.text and "version 2: provider-b" in page.text
    assert approver.decide(on_call, "approve").status == 200
    assert approver.decide(pipeline.link_for("eng-lead@skillancer.com"), "approve").status == 200
    result = pipeline.wait(execution)
    # Then the parameter holds the earlier value, and the spine's report records the type's change
    assert result["status"] == "SUCCEEDED", result
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "provider-a"
    report = json.loads(result["output"])
    assert [(c["target"], c["before"], c["after"], c["status"]) for c in report["changes"]] == [
        (f"parameter {PARAMETER}", "version 2: provider-b", "version 1: provider-a", "applied")
    ]
    assert pipeline.lock_holder() is None


def test_the_test_only_type_refuses_input_that_is_not_its_own(pipeline: LocalPipeline) -> None:
    # When the kubernetes_app target is sent to the ssm_parameter workflow
    arn = pipeline.deployment.state_machine_arn("SsmParameter")
    bad = rollback_input(target={"deployments": ["skillancer-web"]})
    execution = pipeline.sfn.start_execution(stateMachineArn=arn, name="ssm-bad", input=json.dumps(bad))["executionArn"]
    result = pipeline.wait(execution)
    # Then it fails validation naming the fields, before anything else ran
    assert (result["status"], result["error"]) == ("FAILED", "InvalidRollbackInput")
    assert "target.names: Field required" in result["cause"]
    assert "target.deployments: Extra inputs are not permitted" in result["cause"]
    assert "Run pre-checks" not in pipeline.states_entered(execution)
