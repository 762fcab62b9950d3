"""The Kubernetes Lambda handlers end to end against the fake cluster: settings from the environment, an STS client
with moto's credentials, the EKS token verified by the fake, kubectl's semantics underneath."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from local.kube.server import FakeKubernetes
from tests.kubernetes.conftest import CLUSTER, NAMESPACE

RC5 = "registry.example.com/{}:v1.0.0-rc.5"


@pytest.fixture
def steps(kube: FakeKubernetes, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    monkeypatch.setenv("CLUSTER_NAME", CLUSTER)
    monkeypatch.setenv("CLUSTER_ENDPOINT", kube.url)
    monkeypatch.setenv("CLUSTER_CA_DATA", kube.ca_data)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("APPROVALS_TABLE_NAME", "approvals")
    monkeypatch.setenv("AUDIT_TABLE_NAME", "audit")
    with mock_aws():
        from functions.adapters.aws import client
        from functions.rollbacks.kubernetes_app import handlers as kubernetes_steps

        client.cache_clear()
        grant_approval(client("dynamodb"), status="APPROVED")
        client("dynamodb").create_table(
            TableName="audit",
            KeySchema=[
                {"AttributeName": "rollback_id", "KeyType": "HASH"},
                {"AttributeName": "event_key", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "rollback_id", "AttributeType": "S"},
                {"AttributeName": "event_key", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

        client.cache_clear()
        kubernetes_steps._rollouts.cache_clear()
        yield kubernetes_steps
        client.cache_clear()
        kubernetes_steps._rollouts.cache_clear()


def grant_approval(dynamodb: Any, status: str) -> None:
    """The approval record the approval service leaves behind (see functions/adapters/approvals_store.py)."""
    from functions.adapters.approvals_store import ApprovalRequestRecord, ApprovalStore
    from functions.logic.approvals import approval_id_for
    from functions.models.rollback import RollbackRequest

    dynamodb.create_table(
        TableName="approvals",
        KeySchema=[{"AttributeName": "approval_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "approval_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = ApprovalStore(dynamodb, "approvals")
    record = ApprovalRequestRecord(
        approval_id=approval_id_for(RollbackRequest.model_validate(request())), rollback_id="rb-1", status="PENDING",
        task_token="token", requested_by="sre@skillancer.com", required_roles=["on-call"], nonces={}, summary={},
        created_at=datetime.now(UTC), expires_at=0,
    )  # fmt: skip
    store.create(record)
    if status != "PENDING":
        store.close(record.approval_id, status)  # type: ignore[arg-type]


def approval_id() -> str:
    from functions.logic.approvals import approval_id_for
    from functions.models.rollback import RollbackRequest

    return approval_id_for(RollbackRequest.model_validate(request()))


def context() -> Any:
    return SimpleNamespace(
        function_name="kubernetes-steps",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:kubernetes-steps",
        aws_request_id="req-1",
    )


def request(deployments: list[str] | None = None) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    data = {
        "rollback_id": "rb-1",
        "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:k:rb-1",
        "rollback_type": "kubernetes_app",
        "service": "skillancer",
        "environment": "production",
        "target": {"namespace": NAMESPACE, "deployments": ["skillancer-web", "skillancer-api"]},
        "reason": "v1.0.0 returns 500",
        "requested_by": "sre@skillancer.com",
        "scenario": "outage",
        "severity": "P0",
        "required_roles": ["on-call", "lead"],
        "health_urls": [],
        "feature_flags": [],
        "started_at": now,
        "detected_at": now,
        "alarm": None,
        "dry_run": False,
        "approval_window": {"timeout_seconds": 1800, "escalate_after_seconds": 450, "escalation_roles": ["cto"]},
    }
    if deployments is not None:
        data["target"] = {"namespace": NAMESPACE, "deployments": deployments}
    return data


def roll_back(steps: Any, change: dict[str, Any]) -> dict[str, Any]:
    return dict(
        steps.roll_back_deployment({"request": request(), "approval_id": approval_id(), "change": change}, context())
    )


def test_prechecks_rollback_and_pods_through_the_lambda_steps(kube: FakeKubernetes, steps: Any) -> None:
    # Given the seeded cluster at v1.0.0
    # When the pre-checks run
    plan = steps.run_prechecks({"request": request()}, context())
    # Then both deployments plan 3 -> 2, as generic planned changes
    assert "skillancer-web: revision 3 (v1.0.0) -> revision 2 (v1.0.0-rc.5)" in plan["summary"]
    plans = {change["parameters"]["deployment"]: change for change in plan["changes"]}
    assert {k: v for k, v in plans["skillancer-web"].items() if k != "parameters"} == {
        "target": f"deployment/skillancer-web (namespace {NAMESPACE})",
        "kind": "kubernetes.rollout-undo",
        "before": "v1.0.0",
        "after": "v1.0.0-rc.5",
        "detail": "revision 3 -> revision 2; images: registry.example.com/skillancer-web:v1.0.0-rc.5",
        "revert": f"kubectl rollout undo deployment/skillancer-web -n {NAMESPACE} (back to v1.0.0)",
        "resource": f"kubernetes:{CLUSTER}/{NAMESPACE}/deployment/skillancer-web",
        "skip": False,
    }
    # When each is rolled back with its approved plan, and the rollout followed
    changes = [roll_back(steps, plans[name]) for name in ("skillancer-web", "skillancer-api")]
    first = steps.check_rollout({"change": changes[0]}, context())
    kube.settle()
    done = [steps.check_rollout({"change": change}, context()) for change in changes]
    pods = [steps.check_pods({"change": change}, context()) for change in changes]
    # Then kubectl's message came back, the rollout was in progress, then done at revision 4 with healthy pods
    assert [(c["detail"], c["status"]) for c in changes] == [
        (f"deployment.apps/{n} rolled back", "applied") for n in ("skillancer-web", "skillancer-api")
    ]
    assert first["done"] is False
    assert [(p["done"], p["revision"]) for p in done] == [(True, 4), (True, 4)]
    assert all(p["healthy"] and "3/3 pods ready" in p["summary"] for p in pods)
    for name in ("skillancer-web", "skillancer-api"):
        assert kube.deployment(NAMESPACE, name)["spec"]["template"]["spec"]["containers"][0]["image"] == RC5.format(
            name
        )
    # And each change was recorded in the audit trail before it was made, then as applied
    assert [e["event"] for e in audit_events()] == ["change unconfirmed", "change applied"] * 2


def audit_events() -> list[dict[str, Any]]:
    from functions.adapters.audit import AuditLog
    from functions.adapters.aws import client

    return AuditLog(client("dynamodb"), "audit").events("rb-1")


def test_pod_failure_surfaces_as_pods_unhealthy(kube: FakeKubernetes, steps: Any) -> None:
    from functions.rollbacks.kubernetes_app.errors import PodsUnhealthy

    # Given the target image crashes
    kube.fail_image(RC5.format("skillancer-web"), "CrashLoopBackOff")
    plan = steps.run_prechecks({"request": request(deployments=["skillancer-web"])}, context())["changes"][0]
    change = roll_back(steps, plan)
    kube.tick(6)
    # When the pods are checked
    with pytest.raises(
        PodsUnhealthy, match=r"skillancer-web: 0/3 pods ready; skillancer-web-\w+-\w+: CrashLoopBackOff"
    ):
        steps.check_pods({"change": change}, context())


def test_rollback_step_refuses_without_a_granted_approval(kube: FakeKubernetes, steps: Any) -> None:
    from functions.adapters.approvals_store import ApprovalStore
    from functions.adapters.aws import client
    from functions.errors import ApprovalMissing

    # Given the approval request was rejected (or never granted)
    ApprovalStore(client("dynamodb"), "approvals")._dynamodb.update_item(
        TableName="approvals",
        Key={"approval_id": {"S": approval_id()}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "REJECTED"}},
    )
    plan = steps.run_prechecks({"request": request(deployments=["skillancer-web"])}, context())["changes"][0]
    # When the rollback step is invoked anyway, or with another rollback's approval id
    with pytest.raises(ApprovalMissing, match="is REJECTED"):
        roll_back(steps, plan)
    with pytest.raises(ApprovalMissing, match="no approval request"):
        steps.roll_back_deployment({"request": request(), "approval_id": "0" * 32, "change": plan}, context())
    # And nothing was recorded as a change
    assert audit_events() == []
    # Then nothing changed
    assert kube.deployment(NAMESPACE, "skillancer-web")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        ":v1.0.0"
    )
