"""Infrastructure rollbacks end to end on the emulators (runbook procedure 5): the Terraform builds stood in for by
local/aws/terraform.py (a saved plan and its `terraform show -json` document in the plans bucket), moto's ECS with
its deployments completed by local/aws/ecs.py, the real handlers and the synthesized state machine.

Approve -> the plan's summary was on the approval page; exactly that saved plan applied; the ECS service on the
previous revision once its deployment completed; verified; the report lists both. A plan that destroys resources
-> refused at the apply without allow_destroy, nothing applied, FAILED, lock released. The revert (`rollback revert`,
approved like the rollback) plans with the current values, applies that plan and puts the service back on the exact
task definition it ran."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local import approver
from local.aws.codebuild import BUILDS
from local.aws.terraform import TERRAFORM, delete, update
from local.pipeline import NAMESPACE, LocalPipeline
from local.synth import Synthesized
from rollback_cli.revert import revert_input

RC5 = "registry.example.com/skillancer-api:v1.0.0-rc.5"
PLAN_PROJECT, APPLY_PROJECT = "skillancer-terraform-plan", "skillancer-terraform-apply"
PLANS_BUCKET = "skillancer-terraform-plans"
CLUSTER, SERVICE, FAMILY = "skillancer-production", "skillancer-api", "skillancer-api"
ON_CALL, LEAD = "oncall-primary@skillancer.com", "eng-lead@skillancer.com"


@pytest.fixture
def pipeline(synthesized: Synthesized) -> Iterator[LocalPipeline]:
    """The pipeline, the service healthy; the Terraform projects and the versioned plans bucket; the ECS service on
    revision 3 of its family (2 before it)."""
    with LocalPipeline(synthesized) as running:
        running.kube.apply_deployment(NAMESPACE, "skillancer-api", image=RC5)
        running.kube.settle()
        TERRAFORM.set_up(PLAN_PROJECT, APPLY_PROJECT, PLANS_BUCKET)
        ecs = boto3.client("ecs")
        ecs.create_cluster(clusterName=CLUSTER)
        for tag in ("v1.0.0-rc.4", "v1.0.0-rc.5", "v1.0.0"):  # revisions 1 .. 3
            ecs.register_task_definition(
                family=FAMILY,
                containerDefinitions=[
                    {"name": "api", "image": f"registry.example.com/skillancer-api:{tag}", "memory": 512}
                ],
            )
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=f"{FAMILY}:3", desiredCount=2)
        yield running
        TERRAFORM.clear()


def infrastructure_input(pipeline: LocalPipeline, **target: Any) -> dict[str, Any]:
    return {
        "service": "skillancer",
        "environment": "production",
        "target": target or {"terraform": True, "ecs_cluster": CLUSTER, "ecs_service": SERVICE},
        "reason": "the ECS module change broke the API",
        "requested_by": "sre-on-duty@skillancer.com",
        "scenario": "Infrastructure change failure",
        "severity": "P1",
        "health_urls": [pipeline.health.url_for("skillancer-api")],
    }


def start(pipeline: LocalPipeline, name: str, payload: dict[str, Any]) -> str:
    arn = pipeline.deployment.state_machine_arn("Infrastructure")
    return str(pipeline.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"])


def approve_and_wait(pipeline: LocalPipeline, execution: str, *, since: int = 0) -> dict[str, Any]:
    """On-call and lead approve (links from the emails after the first ``since``); the execution's end."""
    for email in (ON_CALL, LEAD):
        assert approver.decide(pipeline.link_for(email, since=since), "approve").status == 200
    return pipeline.wait(execution, timeout=180)


def service() -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return found


def test_the_approved_plan_is_applied_and_the_service_rolled_back_once_its_deployment_completed(
    pipeline: LocalPipeline,
) -> None:
    # Given a plan that updates the ECS service, and a deployment that takes two reads to complete
    from local.aws.ecs import DEPLOYMENTS

    TERRAFORM.plan_changes([update("module.ecs.aws_ecs_service.api")])
    DEPLOYMENTS.script(SERVICE, reads_in_progress=2)
    before = service()["taskDefinition"]
    # When an infrastructure rollback is started and on-call and lead approve what the page shows
    execution = start(pipeline, "infra-1", infrastructure_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval", timeout=60)
    page = approver.view(pipeline.link_for(ON_CALL))
    result = approve_and_wait(pipeline, execution)
    # Then approvers saw the plan's summary, the values file and the revisions
    for shown in (
        "Plan: 0 to add, 1 to change, 0 to destroy",
        "module.ecs.aws_ecs_service.api",
        "-var-file=previous-values.tfvars -target=module.ecs",
        f"task definition {FAMILY}:3",
        f"task definition {FAMILY}:2",
    ):
        assert shown in page.text, shown
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    # And the plan build ran terraform plan with the previous values; the apply applied exactly that saved plan
    (plan_build,) = BUILDS.started(PLAN_PROJECT)
    assert any("-var-file=previous-values.tfvars -target=module.ecs -out=tfplan" in c for c in plan_build.commands)
    (applied,) = TERRAFORM.applied
    versions = boto3.client("s3").list_object_versions(Bucket=PLANS_BUCKET, Prefix=applied.key)["Versions"]
    assert [v["VersionId"] for v in versions] == [applied.version_id]
    assert applied.document["resource_changes"][0]["address"] == "module.ecs.aws_ecs_service.api"
    (apply_build,) = BUILDS.started(APPLY_PROJECT)
    assert apply_build.variables["PLAN_SHA256"] == applied.sha256
    assert "terraform apply -input=false tfplan" in apply_build.commands
    # And the service runs revision 2, its PRIMARY deployment completed with every task running
    now = service()
    assert before.endswith(f"{FAMILY}:3") and now["taskDefinition"].endswith(f"{FAMILY}:2")
    (primary,) = now["deployments"]
    assert (primary["rolloutState"], primary["runningCount"], primary["desiredCount"]) == ("COMPLETED", 2, 2)
    # And the workflow waited for the deployment (two reads in progress, then the end)
    assert pipeline.states_entered(execution).count("Check ECS deployment") == 3
    # And the report lists both changes applied, with the exact way back for the service
    tf, ecs = json.loads(result["output"])["changes"]
    assert (tf["status"], ecs["status"]) == ("applied", "applied")
    assert f"saved plan {applied.sha256[:12]} SUCCEEDED" in tf["detail"]
    assert tf["revert"].startswith(
        "rollback revert infra-1; by hand: terraform plan -input=false -target=module.ecs -out=tfplan && "
    )
    assert ecs["revert"] == (
        f"rollback revert infra-1; by hand: aws ecs update-service --cluster {CLUSTER} --service {SERVICE} "
        f"--task-definition {before}"
    )
    assert pipeline.lock_holder() is None

    # When the fix is out and the revert is started (the input `rollback revert infra-1` starts) and approved
    original = json.loads(pipeline.describe(execution)["input"])
    changes = json.loads(result["output"])["changes"]
    payload = revert_input("infrastructure", "infra-1", original, changes, requested_by="sre-on-duty@skillancer.com")
    assert payload["target"] == {
        "terraform": True, "values": "current", "targets": ["module.ecs"],
        "ecs_cluster": CLUSTER, "ecs_service": SERVICE, "to_task_definition": f"{FAMILY}:3",
    }  # fmt: skip
    emails = pipeline.approval_emails_so_far()
    revert = start(pipeline, "infra-1-revert", {**payload, "health_urls": original["health_urls"]})
    pipeline.wait_for_state(revert, "Request approval", timeout=60)
    page = approver.view(pipeline.link_for(ON_CALL, since=emails))
    reverted = approve_and_wait(pipeline, revert, since=emails)
    # Then approvers saw Terraform planned with the current values, undoing what the rollback's apply changed
    assert reverted["status"] == "SUCCEEDED", (reverted.get("error"), reverted.get("cause"))
    assert "Terraform module.ecs with the current values" in page.text
    assert "Plan: 0 to add, 1 to change, 0 to destroy" in page.text
    assert f"task definition {FAMILY}:2" in page.text and f"task definition {FAMILY}:3" in page.text
    _, revert_plan = BUILDS.started(PLAN_PROJECT)
    assert any("terraform plan -input=false -target=module.ecs -out=tfplan" in c for c in revert_plan.commands)
    assert not any("-var-file" in c for c in revert_plan.commands)
    # And exactly the revert's saved plan was applied: the service's task definition changed back
    _, undone = TERRAFORM.applied
    (resource,) = undone.document["resource_changes"]
    assert (resource["change"]["before"], resource["change"]["after"]) == (
        {"task_definition": "skillancer-api:7"}, {"task_definition": "skillancer-api:8"},
    )  # fmt: skip
    # And the service runs the exact task definition it ran before the rollback, its deployment completed
    assert service()["taskDefinition"] == before
    assert service()["deployments"][0]["rolloutState"] == "COMPLETED"
    assert pipeline.lock_holder() is None
    # When the revert's own by-hand command for the service is run (as its report gives it)
    ecs_revert = json.loads(reverted["output"])["changes"][1]["revert"]
    words = shlex.split(ecs_revert.split("; by hand: ", 1)[1])
    boto3.client("ecs").update_service(
        cluster=words[words.index("--cluster") + 1],
        service=words[words.index("--service") + 1],
        taskDefinition=words[words.index("--task-definition") + 1],
    )
    # Then the service is on the rollback's revision again
    assert service()["taskDefinition"].endswith(f"{FAMILY}:2")


def test_a_plan_that_destroys_resources_is_refused_without_allow_destroy(pipeline: LocalPipeline) -> None:
    # Given a plan that would destroy a listener rule as well as update the service
    TERRAFORM.plan_changes([update("module.ecs.aws_ecs_service.api"), delete("module.ecs.aws_lb_listener_rule.canary")])
    before = service()["taskDefinition"]
    # When it is requested without allow_destroy, and approved
    execution = start(pipeline, "infra-destroys", infrastructure_input(pipeline))
    pipeline.wait_for_state(execution, "Request approval", timeout=60)
    page = approver.view(pipeline.link_for(ON_CALL))
    result = approve_and_wait(pipeline, execution)
    # Then approvers were told it destroys the rule and will be refused
    assert "Plan: 0 to add, 1 to change, 1 to destroy" in page.text
    assert "module.ecs.aws_lb_listener_rule.canary: it will be refused" in page.text
    # And the apply was refused: nothing applied, no apply build, the service untouched, FAILED, lock released
    assert (result["status"], result["error"]) == ("FAILED", "PlanDestroysResources"), result
    assert "nothing was applied" in result["cause"]
    assert TERRAFORM.applied == [] and BUILDS.started(APPLY_PROJECT) == []
    assert service()["taskDefinition"] == before
    assert pipeline.lock_holder() is None
    report = pipeline.recorded_report("infra-destroys")
    assert report is not None and report["status"] == "FAILED"
    assert report["changes"][0]["status"] == "failed"


def test_a_destroying_plan_the_request_allows_is_applied(pipeline: LocalPipeline) -> None:
    # Given a plan that destroys a rule, requested with allow_destroy and Terraform only
    TERRAFORM.plan_changes([delete("module.ecs.aws_lb_listener_rule.canary")])
    payload = infrastructure_input(pipeline, terraform=True, allow_destroy=True)
    # When it is approved
    execution = start(pipeline, "infra-allowed", payload)
    pipeline.wait_for_state(execution, "Request approval", timeout=60)
    page = approver.view(pipeline.link_for(ON_CALL))
    result = approve_and_wait(pipeline, execution)
    # Then the page stated that approving approves destroying it, and that exact plan was applied
    assert "Approving approves destroying them" in page.text
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    (applied,) = TERRAFORM.applied
    assert applied.document["resource_changes"][0]["change"]["actions"] == ["delete"]
    tf, ecs = json.loads(result["output"])["changes"]
    assert (tf["status"], ecs["status"]) == ("applied", "skipped")
