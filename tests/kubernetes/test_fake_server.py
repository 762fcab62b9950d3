"""The fake API server behaves like a real one where our code and kubectl can tell: wire format, errors,
patches, selectors, paging, watch, defaulting, generation, and the controller's ReplicaSet bookkeeping."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.kube.health_app import HealthApp
from local.kube.server import FakeKubernetes
from tests.kubernetes.conftest import NAMESPACE

DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
WEB = f"{DEPLOYMENTS}/skillancer-web"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
REPLICASETS = f"/apis/apps/v1/namespaces/{NAMESPACE}/replicasets"


class Http:
    """Raw HTTPS to the fake with the kubeconfig's static token."""

    def __init__(self, fake: FakeKubernetes) -> None:
        self.fake = fake
        self.context = ssl.create_default_context(cadata=base64.b64decode(fake.ca_data).decode())

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.fake.port, context=self.context, timeout=10)

    def __call__(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json", **query: str
    ) -> tuple[int, Any]:
        connection = self.connection()
        if query:
            path += "?" + urllib.parse.urlencode(query)
        headers = {"Authorization": f"Bearer {self.fake.static_token}", "Content-Type": content_type}
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data.startswith((b"{", b"[")) else data.decode()

    @contextmanager
    def watch(self, path: str, **query: str) -> Iterator[Iterator[dict[str, Any]]]:
        connection = self.connection()
        query = {"watch": "true", **query}
        headers = {"Authorization": f"Bearer {self.fake.static_token}"}
        connection.request("GET", path + "?" + urllib.parse.urlencode(query), headers=headers)
        response = connection.getresponse()
        assert response.status == 200

        def events() -> Iterator[dict[str, Any]]:
            while line := response.readline():
                yield json.loads(line)

        try:
            yield events()
        finally:
            connection.close()


@pytest.fixture
def server(kube: FakeKubernetes) -> Http:
    return Http(kube)


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


# --- wire format and errors ---------------------------------------------------------------------------------


def test_discovery_lists_what_kubectl_needs(server: Http) -> None:
    # When the discovery endpoints are read
    # Then they describe core/v1 and apps/v1 like a real server
    assert server("GET", "/version")[1]["minor"] == "37"
    assert server("GET", "/api")[1]["versions"] == ["v1"]
    assert server("GET", "/apis")[1]["groups"][0]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    resources = {r["name"]: r for r in server("GET", "/apis/apps/v1")[1]["resources"]}
    assert set(resources) >= {"deployments", "deployments/status", "deployments/scale", "replicasets"}
    assert "patch" in resources["deployments"]["verbs"] and resources["deployments"]["shortNames"] == ["deploy"]
    assert {r["name"] for r in server("GET", "/api/v1")[1]["resources"]} >= {"pods"}


def test_errors_are_status_objects(server: Http) -> None:
    # When a missing deployment and an unknown path are read
    code, body = server("GET", f"{DEPLOYMENTS}/nope")
    # Then 404 Status with the server's wording
    assert code == 404
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "group": "apps", "kind": "deployments"},
        "code": 404,
    }
    assert server("GET", "/apis/batch/v1/jobs")[0] == 404


def test_failed_json_patch_test_is_422_invalid_and_changes_nothing(kube: FakeKubernetes, server: Http) -> None:
    # Given a json patch whose test op holds a stale resourceVersion
    before = kube.deployment(NAMESPACE, "skillancer-web")
    patch = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "replace", "path": "/spec/replicas", "value": 1},
    ]
    # When sent
    code, body = server("PATCH", WEB, patch, "application/json-patch+json")
    # Then 422 like kube-apiserver (NewGenericServerResponse), and the deployment is untouched
    assert code == 422
    assert (body["reason"], body["message"]) == (
        "Invalid",
        "the server rejected our request due to an error in our request",
    )
    assert body["details"]["causes"] == [
        {"reason": "UnexpectedServerResponse", "message": "testing value /metadata/resourceVersion failed: test failed"}
    ]
    assert kube.deployment(NAMESPACE, "skillancer-web") == before


def test_replace_of_missing_annotations_fails_and_add_works(kube: FakeKubernetes, server: Http) -> None:
    # Given a deployment without annotations
    server("PATCH", WEB, {"metadata": {"annotations": None}}, "application/merge-patch+json")
    # When the annotations are replaced, then added
    replace = server(
        "PATCH",
        WEB,
        [{"op": "replace", "path": "/metadata/annotations", "value": {"a": "b"}}],
        "application/json-patch+json",
    )
    add = server(
        "PATCH",
        WEB,
        [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}],
        "application/json-patch+json",
    )
    # Then replace is refused (as kubectl's own undo would be) and add goes through
    assert replace[0] == 422
    assert add[0] == 200 and add[1]["metadata"]["annotations"] == {"a": "b"}


def test_stale_resource_version_in_merge_patch_is_409_conflict(server: Http) -> None:
    code, body = server(
        "PATCH", WEB, {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 1}}, "application/merge-patch+json"
    )
    assert code == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]


def test_strategic_merge_patch_merges_containers_by_name_and_apply_is_415(kube: FakeKubernetes, server: Http) -> None:
    # When kubectl set image's patch is sent
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "skillancer-web"}],
                    "containers": [{"image": "registry.example.com/skillancer-web:v2", "name": "skillancer-web"}],
                }
            }
        }
    }
    code, body = server("PATCH", WEB, patch, "application/strategic-merge-patch+json")
    # Then only the image changed in the container
    assert code == 200
    (container,) = body["spec"]["template"]["spec"]["containers"]
    assert container["image"].endswith(":v2") and container["terminationMessagePath"] == "/dev/termination-log"
    # And server-side apply is refused clearly
    code, body = server("PATCH", WEB, {"spec": {}}, "application/apply-patch+yaml")
    assert code == 415 and "server-side apply" in body["message"]


def test_generation_moves_on_spec_or_annotation_changes_only(kube: FakeKubernetes, server: Http) -> None:
    # Given the deployment at generation 3
    before = kube.deployment(NAMESPACE, "skillancer-web")
    assert before["metadata"]["generation"] == 3
    # When a no-op patch, a label change, an annotation change and a spec change are sent in turn
    noop = server("PATCH", WEB, {"spec": {"replicas": 3}}, "application/merge-patch+json")[1]
    label = server("PATCH", WEB, {"metadata": {"labels": {"team": "x"}}}, "application/merge-patch+json")[1]
    annotation = server("PATCH", WEB, {"metadata": {"annotations": {"note": "x"}}}, "application/merge-patch+json")[1]
    spec = server("PATCH", WEB, {"spec": {"minReadySeconds": 5}}, "application/merge-patch+json")[1]
    # Then: nothing stored, stored without generation, then generation 4, then 5
    assert noop["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert (label["metadata"]["generation"], int(label["metadata"]["resourceVersion"])) == (
        3,
        kube.store.resource_version - 2,
    )
    assert annotation["metadata"]["generation"] == 4
    assert spec["metadata"]["generation"] == 5


def test_create_applies_server_defaults_and_validates(server: Http) -> None:
    # Given a minimal deployment
    body = {
        "metadata": {"name": "defaults"},
        "spec": {
            "selector": {"matchLabels": {"app": "defaults"}},
            "template": {
                "metadata": {"labels": {"app": "defaults"}},
                "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    # When created
    code, created = server("POST", DEPLOYMENTS, body)
    # Then the stored object carries the API server's defaults
    assert code == 201
    spec = created["spec"]
    assert spec["replicas"] == 1 and spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["dnsPolicy"], pod["schedulerName"]) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert pod["securityContext"] == {} and pod["terminationGracePeriodSeconds"] == 30
    (container,) = pod["containers"]
    assert container["imagePullPolicy"] == "Always"  # untagged means :latest
    assert container["resources"] == {} and container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    # And a selector that does not match the template is 422 Invalid naming the field
    body["metadata"]["name"] = "broken"
    body["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    code, error = server("POST", DEPLOYMENTS, body)
    assert code == 422 and error["details"]["causes"][0]["field"] == "spec.template.metadata.labels"


# --- lists and selectors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=skillancer,component=web", {"web"}),
        ("app==skillancer,component in (web, api)", {"web", "api"}),
        ("component notin (web)", {"api"}),
        ("component!=api", {"web"}),
        ("component,!missing", {"web", "api"}),
        ("missing", set()),
    ],
)
def test_label_selectors(server: Http, selector: str, expected: set[str]) -> None:
    code, pods = server("GET", PODS, labelSelector=selector)
    assert code == 200 and pods["kind"] == "PodList"
    assert {p["metadata"]["labels"]["component"] for p in pods["items"]} == expected


def test_field_selector_and_unsupported_field(server: Http) -> None:
    _, selected = server("GET", DEPLOYMENTS, fieldSelector="metadata.name=skillancer-api")
    assert names(selected["items"]) == ["skillancer-api"]
    code, error = server("GET", DEPLOYMENTS, fieldSelector="spec.replicas=3")
    assert code == 400 and error["reason"] == "BadRequest"


def test_limit_and_continue_page_through_a_list(server: Http) -> None:
    # Given six pods
    _, everything = server("GET", PODS)
    assert len(everything["items"]) == 6 and "kind" not in everything["items"][0]
    # When listed two at a time
    pages, token = [], ""
    while True:
        _, page = server("GET", PODS, limit="2", **({"continue": token} if token else {}))
        pages.append(page)
        token = page["metadata"].get("continue", "")
        if not token:
            break
    # Then three pages hold the same pods, with remainingItemCount on all but the last
    assert [len(p["items"]) for p in pages] == [2, 2, 2]
    assert [p["metadata"].get("remainingItemCount") for p in pages] == [4, 2, None]
    assert [name for page in pages for name in names(page["items"])] == names(everything["items"])


# --- watch --------------------------------------------------------------------------------------------------


def test_watch_list_sends_initial_events_a_bookmark_then_changes(kube: FakeKubernetes, server: Http) -> None:
    # Given a watch-list request as kubectl 1.37's rollout status sends it
    query = {
        "fieldSelector": "metadata.name=skillancer-web",
        "sendInitialEvents": "true",
        "allowWatchBookmarks": "true",
        "resourceVersionMatch": "NotOlderThan",
    }
    with server.watch(DEPLOYMENTS, **query) as events:
        # When the initial events are read
        added, bookmark = next(events), next(events)
        # Then the matching object comes ADDED, then a BOOKMARK marks the end of the initial events
        assert (added["type"], added["object"]["metadata"]["name"], added["object"]["kind"]) == (
            "ADDED",
            "skillancer-web",
            "Deployment",
        )
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        # When the deployment (and the other one) change
        kube.apply_deployment(NAMESPACE, "skillancer-api", image="registry.example.com/skillancer-api:v2")
        kube.apply_deployment(NAMESPACE, "skillancer-web", image="registry.example.com/skillancer-web:v2")
        # Then only the watched one arrives, MODIFIED
        modified = next(events)
        assert (modified["type"], modified["object"]["metadata"]["name"]) == ("MODIFIED", "skillancer-web")
        assert modified["object"]["metadata"]["generation"] == 4


def test_watch_from_a_resource_version_replays_later_events(kube: FakeKubernetes, server: Http) -> None:
    # Given a resourceVersion, then a change after it
    since = server("GET", DEPLOYMENTS)[1]["metadata"]["resourceVersion"]
    kube.pause(NAMESPACE, "skillancer-web")
    # When watched from that version
    with server.watch(DEPLOYMENTS, resourceVersion=since) as events:
        # Then the change is replayed
        event = next(events)
        assert (event["type"], event["object"]["spec"]["paused"]) == ("MODIFIED", True)
    # And a version older than the server's history is 410 Expired
    with server.watch(DEPLOYMENTS, resourceVersion="1") as events:
        error = next(events)
        assert (error["type"], error["object"]["code"], error["object"]["reason"]) == ("ERROR", 410, "Expired")


# --- controller ---------------------------------------------------------------------------------------------


def test_replica_sets_and_pods_carry_hash_owner_and_revision(kube: FakeKubernetes) -> None:
    # Given the seeded deployment
    deployment = kube.deployment(NAMESPACE, "skillancer-web")
    current = [
        rs for rs in kube.replicasets(NAMESPACE) if rs["spec"]["replicas"] == 3 and "web" in rs["metadata"]["name"]
    ]
    (rs,) = current
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    # Then the ReplicaSet is <deployment>-<hash>, with the hash in labels, selector and template
    assert rs["metadata"]["name"] == f"skillancer-web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == pod_hash
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    (owner,) = rs["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Deployment", deployment["metadata"]["uid"], True)
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "4"
    # And its three pods are owned by it, ready, named after it
    pods = kube.pods(NAMESPACE, f"pod-template-hash={pod_hash}")
    assert len(pods) == 3
    assert all(p["metadata"]["name"].startswith(rs["metadata"]["name"] + "-") for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods)
    # And the deployment's status and conditions say it is complete
    status = deployment["status"]
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (3, 3, 3)
    assert {c["type"]: c["reason"] for c in status["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }


def test_rolling_update_never_drops_below_the_desired_available_pods(kube: FakeKubernetes) -> None:
    # Given a new image for the 3-replica deployment (maxSurge 1, maxUnavailable 0)
    kube.apply_deployment(NAMESPACE, "skillancer-web", image="registry.example.com/skillancer-web:v2")
    # When the controller steps through the rollout
    seen = []
    for _ in range(60):
        kube.tick()
        status = kube.deployment(NAMESPACE, "skillancer-web").get("status", {})
        seen.append((status.get("replicas", 0), status.get("availableReplicas", 0)))
        if kube.controller.is_settled(kube.deployment(NAMESPACE, "skillancer-web")):
            break
    # Then it took several steps, never exceeded 4 pods nor dropped below 3 available
    assert len(seen) > 5
    assert max(total for total, _ in seen) == 4
    assert min(available for _, available in seen) == 3


def test_revision_history_limit_prunes_the_oldest_scaled_down_replica_sets(kube: FakeKubernetes, server: Http) -> None:
    # Given a history limit of 2
    server("PATCH", WEB, {"spec": {"revisionHistoryLimit": 2}}, "application/merge-patch+json")
    # When three more versions are deployed
    for version in ("v2", "v3", "v4"):
        kube.apply_deployment(NAMESPACE, "skillancer-web", image=f"registry.example.com/skillancer-web:{version}")
        kube.settle()
    # Then only the current and the two newest old ReplicaSets remain
    remaining = sorted(
        int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        for rs in kube.replicasets(NAMESPACE)
        if rs["metadata"]["name"].startswith("skillancer-web-")
    )
    assert remaining == [4, 5, 6]


def test_recreate_strategy_scales_old_down_before_new_up(kube: FakeKubernetes) -> None:
    # Given a Recreate deployment at v1, then v2
    strategy = {"type": "Recreate"}
    kube.apply_deployment(NAMESPACE, "batch", image="registry.example.com/batch:v1", replicas=2, strategy=strategy)
    kube.settle()
    kube.apply_deployment(NAMESPACE, "batch", image="registry.example.com/batch:v2")
    # When stepping through
    both_running = False
    for _ in range(30):
        kube.tick()
        pods = kube.pods(NAMESPACE, "app=batch")
        images = {p["spec"]["containers"][0]["image"] for p in pods}
        both_running = both_running or len(images) > 1
    # Then old and new pods never ran together and v2 runs
    assert not both_running
    assert {p["spec"]["containers"][0]["image"] for p in kube.pods(NAMESPACE, "app=batch")} == {
        "registry.example.com/batch:v2"
    }


def test_scale_subresource_and_cascading_delete(kube: FakeKubernetes, server: Http) -> None:
    # When scaled through deployments/scale as kubectl scale does
    code, scale = server("PATCH", f"{WEB}/scale", {"spec": {"replicas": 5}}, "application/merge-patch+json")
    kube.settle()
    # Then five pods run
    assert code == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5
    assert len(kube.pods(NAMESPACE, "component=web")) == 5
    # When the deployment is deleted, then its ReplicaSets and pods go with it
    assert server("DELETE", WEB)[0] == 200
    assert kube.pods(NAMESPACE, "component=web") == []
    assert not [rs for rs in kube.replicasets(NAMESPACE) if rs["metadata"]["name"].startswith("skillancer-web-")]


def test_snapshot_and_restore_round_trip(kube: FakeKubernetes) -> None:
    # Given a snapshot, then changes
    snapshot = kube.snapshot()
    before = (kube.deployments(), kube.replicasets(), kube.pods(), kube.store.resource_version)
    kube.apply_deployment(NAMESPACE, "skillancer-web", image="registry.example.com/skillancer-web:v2")
    kube.settle()
    # When restored
    kube.restore(snapshot)
    # Then everything is back, resourceVersion counter included
    assert (kube.deployments(), kube.replicasets(), kube.pods(), kube.store.resource_version) == before


# --- health endpoints ---------------------------------------------------------------------------------------


def test_health_app_follows_the_running_version_and_pods(kube: FakeKubernetes) -> None:
    with HealthApp(kube, namespace=NAMESPACE) as app:

        def get(service: str) -> tuple[int, dict[str, Any]]:
            connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
            connection.request("GET", urllib.parse.urlsplit(app.url_for(service)).path)
            response = connection.getresponse()
            return response.status, json.loads(response.read())

        # Given v1.0.0 (broken) running: unhealthy
        assert get("skillancer-web") == (
            503,
            {
                "status": "unhealthy",
                "service": "skillancer-web",
                "version": "v1.0.0",
                "ready": "3/3",
                "detail": "v1.0.0 returns 500 on /health",
            },
        )
        # When rc.5 is rolled out, unhealthy while rolling, then healthy
        kube.apply_deployment(NAMESPACE, "skillancer-web", image="registry.example.com/skillancer-web:v1.0.0-rc.5")
        kube.tick(2)
        assert get("skillancer-web")[0] == 503
        kube.settle()
        code, body = get("skillancer-web")
        assert (code, body["status"], body["version"]) == (200, "healthy", "v1.0.0-rc.5")
        assert get("unknown")[0] == 404
