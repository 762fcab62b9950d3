"""DeploymentRollouts against the fake API server over HTTPS: kubectl's undo/status/history rules, no mocks."""

from __future__ import annotations

from typing import Any

import pytest

from functions.rollbacks.kubernetes_app.adapters.models import RevisionInfo
from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts
from functions.rollbacks.kubernetes_app.errors import (
    ConcurrentModification,
    DeploymentNotFound,
    DeploymentPaused,
    NoRolloutHistory,
    RevisionNotFound,
    RolloutFailed,
)
from local.kube.server import FakeKubernetes
from tests.kubernetes.conftest import DEADLINE_TICKS, NAMESPACE

WEB = "skillancer-web"
RC4, RC5, V1 = (f"registry.example.com/skillancer-web:{v}" for v in ("v1.0.0-rc.4", "v1.0.0-rc.5", "v1.0.0"))


def replica_sets(kube: FakeKubernetes, deployment: str = WEB) -> dict[str, dict[str, Any]]:
    """Image tag -> revision, revision-history and replicas of the Deployment's ReplicaSets."""
    result = {}
    for rs in kube.replicasets(NAMESPACE):
        if rs["metadata"]["name"].startswith(deployment + "-"):
            annotations = rs["metadata"].get("annotations", {})
            tag = rs["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
            result[tag] = {
                "revision": annotations.get("deployment.kubernetes.io/revision"),
                "history": annotations.get("deployment.kubernetes.io/revision-history"),
                "replicas": rs["spec"]["replicas"],
            }
    return result


def image_of(kube: FakeKubernetes, deployment: str = WEB) -> str:
    return str(kube.deployment(NAMESPACE, deployment)["spec"]["template"]["spec"]["containers"][0]["image"])


def revision_of(kube: FakeKubernetes, deployment: str = WEB) -> str:
    return str(kube.deployment(NAMESPACE, deployment)["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def patches(kube: FakeKubernetes) -> list[Any]:
    return [r for r in kube.requests if r.method == "PATCH"]


# --- history ------------------------------------------------------------------------------------------------


def test_history_lists_revisions_with_change_cause_and_images(rollouts: DeploymentRollouts) -> None:
    # Given the seeded deployment with three deploys
    # When its history is read
    history = rollouts.history(NAMESPACE, WEB)
    # Then it is kubectl's table: ascending revisions, change-cause, images
    assert history == [
        RevisionInfo(revision=1, change_cause="deploy v1.0.0-rc.4", images=[RC4]),
        RevisionInfo(revision=2, change_cause="deploy v1.0.0-rc.5", images=[RC5]),
        RevisionInfo(revision=3, change_cause="deploy v1.0.0", images=[V1]),
    ]


def test_lists_follow_continue_tokens(
    kube: FakeKubernetes, rollouts: DeploymentRollouts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.rollbacks.kubernetes_app.adapters import rollouts as module

    # Given pages of one item
    monkeypatch.setattr(module, "PAGE_SIZE", 1)
    # When the history and pod health are read
    history = rollouts.history(NAMESPACE, WEB)
    health = rollouts.pod_health(NAMESPACE, WEB)
    # Then every page was fetched (its token sent back as the server gave it), with the same result as one page
    assert [h.revision for h in history] == [1, 2, 3] and health.ready == 3
    lists = [r for r in kube.requests if r.method == "GET" and r.path.endswith(("/replicasets", "/pods"))]
    # (3 listings, replica sets twice and pods once, of 3 items each)
    assert len(lists) == 9 and all(r.query["limit"] == "1" for r in lists)
    assert sum("continue" not in r.query for r in lists) == 3


# --- undo ---------------------------------------------------------------------------------------------------


def test_undo_goes_back_to_the_previous_revision_and_the_controller_renumbers_it(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given revisions 1, 2, 3 with 3 (v1.0.0) running
    before = kube.deployment(NAMESPACE, WEB)
    # When undone without a revision
    result = rollouts.undo(NAMESPACE, WEB)
    kube.settle()
    # Then kubectl's wording and facts come back
    assert result.skipped is False
    assert result.message == f"deployment.apps/{WEB} rolled back"
    assert (result.current_revision, result.target_revision) == (3, 2)
    assert (result.current_images, result.target_images) == ([V1], [RC5])
    assert result.resource_version != before["metadata"]["resourceVersion"]
    # And the ReplicaSet that was revision 2 is reused as revision 4 with history "2"
    assert image_of(kube) == RC5
    assert revision_of(kube) == "4"
    assert replica_sets(kube) == {
        "v1.0.0-rc.4": {"revision": "1", "history": None, "replicas": 0},
        "v1.0.0-rc.5": {"revision": "4", "history": "2", "replicas": 3},
        "v1.0.0": {"revision": "3", "history": None, "replicas": 0},
    }
    # And the change-cause came back with the template, the generation moved once
    after = kube.deployment(NAMESPACE, WEB)
    assert after["metadata"]["annotations"]["kubernetes.io/change-cause"] == "deploy v1.0.0-rc.5"
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1


def test_undo_sends_one_json_patch_guarded_by_a_resource_version_test(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given the seeded deployment
    deployment = kube.deployment(NAMESPACE, WEB)
    # When undone
    rollouts.undo(NAMESPACE, WEB)
    # Then exactly one PATCH went out: test resourceVersion, replace template (no hash label), replace annotations
    (patch,) = patches(kube)
    assert patch.content_type == "application/json-patch+json"
    test, template, annotations = patch.body
    assert test == {
        "op": "test",
        "path": "/metadata/resourceVersion",
        "value": deployment["metadata"]["resourceVersion"],
    }
    assert template["op"] == "replace" and template["path"] == "/spec/template"
    assert template["value"]["metadata"]["labels"] == {"app": "skillancer", "component": "web"}
    assert template["value"]["spec"]["containers"][0]["image"] == RC5
    assert annotations == {
        "op": "replace",
        "path": "/metadata/annotations",
        "value": {"deployment.kubernetes.io/revision": "3", "kubernetes.io/change-cause": "deploy v1.0.0-rc.5"},
    }


def test_undo_twice_flips_back(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given one undo already done (rc.5 now revision 4)
    rollouts.undo(NAMESPACE, WEB)
    kube.settle()
    # When undone again
    result = rollouts.undo(NAMESPACE, WEB)
    kube.settle()
    # Then v1.0.0 runs again, from its ReplicaSet renumbered 3 -> 5
    assert (result.current_revision, result.target_revision) == (4, 3)
    assert image_of(kube) == V1
    assert revision_of(kube) == "5"
    assert replica_sets(kube)["v1.0.0"] == {"revision": "5", "history": "3", "replicas": 3}
    assert replica_sets(kube)["v1.0.0-rc.5"] == {"revision": "4", "history": "2", "replicas": 0}


def test_undo_to_a_revision(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # When undone to revision 1
    result = rollouts.undo(NAMESPACE, WEB, to_revision=1)
    kube.settle()
    # Then rc.4 runs as revision 4
    assert (result.target_revision, result.target_images) == (1, [RC4])
    assert image_of(kube) == RC4
    assert replica_sets(kube)["v1.0.0-rc.4"] == {"revision": "4", "history": "1", "replicas": 3}


def test_undo_to_a_version_picks_the_newest_revision_with_that_image_tag(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # When planned and undone to version v1.0.0-rc.5
    plan = rollouts.plan_undo(NAMESPACE, WEB, to_version="v1.0.0-rc.5")
    result = rollouts.undo(NAMESPACE, WEB, to_version="v1.0.0-rc.5")
    kube.settle()
    # Then revision 2 is the target
    assert (plan.target_revision, plan.already_at_target) == (2, False)
    assert result.target_revision == 2
    assert image_of(kube) == RC5


def test_unknown_version_or_revision_is_refused(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # When asked for a version or revision that is not in the history
    with pytest.raises(RevisionNotFound, match=r"skillancer-web.*v9\.9\.9.*v1\.0\.0-rc\.4"):
        rollouts.plan_undo(NAMESPACE, WEB, to_version="v9.9.9")
    with pytest.raises(RevisionNotFound, match=r"revision 7 .*skillancer-web"):
        rollouts.undo(NAMESPACE, WEB, to_revision=7)
    with pytest.raises(RevisionNotFound):
        rollouts.undo(NAMESPACE, WEB, to_revision=-1)
    # Then nothing was written
    assert patches(kube) == []


def test_already_at_target_is_skipped_not_an_error(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given the deployment at revision 3
    before = kube.deployment(NAMESPACE, WEB)
    # When undone to revision 3
    plan = rollouts.plan_undo(NAMESPACE, WEB, to_revision=3)
    result = rollouts.undo(NAMESPACE, WEB, to_revision=3)
    # Then it is skipped with kubectl's message and nothing is written
    assert plan.already_at_target is True
    assert result.skipped is True
    assert result.message == "skipped rollback (current template already matches revision 3)"
    assert result.resource_version == before["metadata"]["resourceVersion"]
    assert patches(kube) == []
    assert kube.deployment(NAMESPACE, WEB) == before


def test_version_already_running_is_skipped(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given someone deployed rc.5 again by hand (its ReplicaSet is reused as revision 4)
    kube.apply_deployment(NAMESPACE, WEB, image=RC5)
    kube.settle()
    # When undone to version rc.5
    result = rollouts.undo(NAMESPACE, WEB, to_version="v1.0.0-rc.5")
    # Then the newest rc.5 revision is the running one: skipped
    assert (result.skipped, result.target_revision) == (True, 4)


def test_paused_deployment_is_refused(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given a paused deployment
    kube.pause(NAMESPACE, WEB)
    before = kube.deployment(NAMESPACE, WEB)
    # When planned or undone
    with pytest.raises(DeploymentPaused, match=r"skillancer-web.*resume"):
        rollouts.plan_undo(NAMESPACE, WEB)
    with pytest.raises(DeploymentPaused):
        rollouts.undo(NAMESPACE, WEB)
    # Then nothing changed
    assert kube.deployment(NAMESPACE, WEB) == before


def test_deployment_without_history_is_refused(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given a deployment deployed once
    kube.apply_deployment(NAMESPACE, "skillancer-worker", image="registry.example.com/worker:v1")
    kube.settle()
    # When undone
    with pytest.raises(NoRolloutHistory, match='deployment "skillancer-worker"'):
        rollouts.undo(NAMESPACE, "skillancer-worker")
    # Then nothing was written
    assert patches(kube) == []


def test_missing_deployment_is_reported_by_name(rollouts: DeploymentRollouts) -> None:
    # When any operation targets a deployment that does not exist
    # Then DeploymentNotFound names it and the namespace
    for call in (
        lambda: rollouts.plan_undo(NAMESPACE, "nope"),
        lambda: rollouts.undo(NAMESPACE, "nope"),
        lambda: rollouts.status(NAMESPACE, "nope"),
        lambda: rollouts.history(NAMESPACE, "nope"),
        lambda: rollouts.pod_health(NAMESPACE, "nope"),
    ):
        with pytest.raises(DeploymentNotFound, match='deployment "nope" not found in namespace "production"'):
            call()


def test_concurrent_write_fails_the_test_op_and_changes_nothing(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given another client writes the deployment between our read and our patch, and a single attempt
    kube.concurrent_write_before_next_patch(NAMESPACE, WEB)
    rs_before = kube.replicasets(NAMESPACE)
    # When undone
    with pytest.raises(ConcurrentModification, match=r"skillancer-web.*nothing was changed"):
        rollouts.undo(NAMESPACE, WEB, attempts=1)
    # Then the server answered 422 to the one patch, and template, annotations and generation are unchanged
    (patch,) = patches(kube)
    assert patch.status == 422
    after = kube.deployment(NAMESPACE, WEB)
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == V1
    assert after["metadata"]["annotations"]["kubernetes.io/change-cause"] == "deploy v1.0.0"
    assert after["metadata"]["generation"] == 3
    kube.settle()
    assert kube.replicasets(NAMESPACE) == rs_before


def test_a_write_between_read_and_patch_is_met_by_reading_again(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given an approved plan, and a status update landing between the step's read and its patch
    plan = rollouts.plan_undo(NAMESPACE, WEB)
    kube.concurrent_write_before_next_patch(NAMESPACE, WEB)
    # When undone
    result = rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    # Then the first patch failed its test, the second (after reading again) went through
    assert [p.status for p in patches(kube)] == [422, 200]
    assert result.skipped is False and image_of(kube).endswith(":v1.0.0-rc.5")


def test_a_scale_or_status_update_during_the_approval_does_not_block_the_rollback(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given an approved plan, then an autoscaler scales the deployment and the controller updates its status
    plan = rollouts.plan_undo(NAMESPACE, WEB)
    kube.api.update_deployment(NAMESPACE, WEB, lambda d: {**d, "spec": {**d["spec"], "replicas": 5}})
    kube.settle()
    assert kube.deployment(NAMESPACE, WEB)["metadata"]["resourceVersion"] != plan.resource_version
    # When the approved undo runs
    result = rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    # Then it goes through: the revision and pod template the approvers saw did not move
    assert result.skipped is False and image_of(kube).endswith(":v1.0.0-rc.5")


def test_a_run_after_the_change_was_made_reports_it_as_already_done(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given an approved plan that was carried out (and its outcome lost)
    plan = rollouts.plan_undo(NAMESPACE, WEB)
    rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    kube.settle()
    # When the same approved undo runs again
    again = rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    # Then it changes nothing and says it found the rollback done
    assert again.skipped is True and "found rolled back already" in again.message
    assert len(patches(kube)) == 1


def test_a_new_revision_since_the_approval_is_refused_naming_what_moved(
    kube: FakeKubernetes, rollouts: DeploymentRollouts
) -> None:
    # Given an approved plan, then a hotfix deployed after it
    plan = rollouts.plan_undo(NAMESPACE, WEB)
    kube.apply_deployment(NAMESPACE, WEB, image="registry.example.com/skillancer-web:v1.0.1")
    kube.settle()
    # When the approved undo runs
    with pytest.raises(
        ConcurrentModification,
        match=r"changed since the rollback was approved: revision 3 \(.*:v1.0.0\) is now revision 4 \(.*:v1.0.1\)",
    ):
        rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    # Then the hotfix stays and nothing was patched
    assert image_of(kube).endswith(":v1.0.1")
    assert patches(kube) == []


def test_plan_matches_a_settled_deployment_and_stays_valid(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given a plan on the settled cluster, and the controller running on (nothing to do)
    plan = rollouts.plan_undo(NAMESPACE, WEB)
    kube.tick(5)
    # When undone as approved
    result = rollouts.undo(NAMESPACE, WEB, to_revision=plan.target_revision, approved=plan)
    # Then it goes through: a settled controller writes nothing that would move the resourceVersion
    assert result.skipped is False


def test_deployment_without_annotations_is_patched_with_add(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given a deployment whose annotations were all removed (the controller has not re-added its revision)
    kube.api.update_deployment(NAMESPACE, WEB, lambda d: {**d, "metadata": {**d["metadata"], "annotations": None}})
    assert "annotations" not in kube.deployment(NAMESPACE, WEB)["metadata"]
    # When undone
    rollouts.undo(NAMESPACE, WEB)
    # Then the annotations were added rather than replaced, and the rollback went through
    (patch,) = patches(kube)
    assert patch.body[2]["op"] == "add" and patch.status == 200
    kube.settle()
    assert image_of(kube) == RC5


# --- status -------------------------------------------------------------------------------------------------


def test_status_waits_then_reports_success(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given an undo just patched (the controller has not run yet)
    rollouts.undo(NAMESPACE, WEB)
    # When status is read before the controller observes it
    first = rollouts.status(NAMESPACE, WEB)
    # Then kubectl's first waiting message
    assert (first.done, first.observed) == (False, False)
    assert first.message == "Waiting for deployment spec update to be observed..."
    # When the controller runs step by step
    messages = []
    for _ in range(40):
        kube.tick()
        status = rollouts.status(NAMESPACE, WEB)
        messages.append(status.message)
        if status.done:
            break
    # Then it went through kubectl's waiting states to success at revision 4
    assert status.done and status.revision == 4
    assert status.message == 'deployment "skillancer-web" successfully rolled out'
    assert any("new replicas have been updated" in m for m in messages)
    assert any("old replicas are pending termination" in m for m in messages)
    assert (status.replicas, status.updated_replicas, status.available_replicas) == (3, 3, 3)


def test_status_with_an_unexpected_revision_is_refused(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given the deployment at revision 3
    # When status is asked for revision 4
    with pytest.raises(
        ConcurrentModification, match=r"desired revision \(4\) is different from the running revision \(3\)"
    ):
        rollouts.status(NAMESPACE, WEB, revision=4)
    # Then asking for 3 is fine
    assert rollouts.status(NAMESPACE, WEB, revision=3).done


def test_progress_deadline_exceeded_is_a_rollout_failure(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given rc.5 cannot be pulled any more
    kube.fail_image(RC5, "ImagePullBackOff")
    rollouts.undo(NAMESPACE, WEB)
    # When the controller runs long enough for the progress deadline to pass
    kube.tick(8)
    assert rollouts.status(NAMESPACE, WEB).done is False
    kube.tick(DEADLINE_TICKS + 5)
    # Then status raises RolloutFailed naming the deployment
    with pytest.raises(RolloutFailed, match='deployment "skillancer-web" exceeded its progress deadline'):
        rollouts.status(NAMESPACE, WEB)
    # And the old pods kept serving (maxUnavailable 0 with 3 replicas rounds down to 0)
    assert replica_sets(kube)["v1.0.0"]["replicas"] == 3


# --- pods ---------------------------------------------------------------------------------------------------


def test_pod_health_of_a_settled_deployment(rollouts: DeploymentRollouts) -> None:
    # When pod health is read for the seeded deployment
    health = rollouts.pod_health(NAMESPACE, WEB)
    # Then all three pods of the current ReplicaSet are ready
    assert (health.healthy, health.ready, health.desired, health.problems) == (True, 3, 3, [])
    assert health.replica_set is not None and health.replica_set.startswith("skillancer-web-")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("ImagePullBackOff", "ImagePullBackOff"),
        ("CrashLoopBackOff", "CrashLoopBackOff"),
        ("Unschedulable", "Unschedulable"),
    ],
)
def test_pod_health_names_the_fault(
    kube: FakeKubernetes, rollouts: DeploymentRollouts, fault: str, reason: str
) -> None:
    # Given the target image fails in a given way and the rollback started
    kube.fail_image(RC5, fault)
    rollouts.undo(NAMESPACE, WEB)
    kube.tick(6)
    # When pod health is read
    health = rollouts.pod_health(NAMESPACE, WEB)
    # Then only the new ReplicaSet's pods count, and each problem names the pod and the reason
    assert health.healthy is False
    assert health.ready == 0 and health.desired == 3
    assert health.problems and {p.reason for p in health.problems} == {reason}
    assert all(p.pod.startswith(str(health.replica_set)) for p in health.problems)
    assert all(p.message for p in health.problems)


def test_pod_health_recovers_when_the_fault_is_fixed(kube: FakeKubernetes, rollouts: DeploymentRollouts) -> None:
    # Given a rollback stuck on ImagePullBackOff
    kube.fail_image(RC5, "ImagePullBackOff")
    rollouts.undo(NAMESPACE, WEB)
    kube.tick(6)
    assert not rollouts.pod_health(NAMESPACE, WEB).healthy
    # When the image can be pulled again and the rollout completes
    kube.heal_image(RC5)
    kube.settle()
    # Then the pods are healthy and the rollout is done
    assert rollouts.pod_health(NAMESPACE, WEB).healthy
    assert rollouts.status(NAMESPACE, WEB).done
