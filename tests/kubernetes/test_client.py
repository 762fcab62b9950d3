"""EKS authentication (the token the Lambda builds, its refresh, the fake cluster accepting or refusing it) and the
API client: the requests ``kubernetes.client`` sent, its errors, proxies."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import urllib3

from functions.capabilities.kubernetes.api import (
    ApiClient,
    ApiException,
    Configuration,
    NotFoundException,
    UnauthorizedException,
    should_bypass_proxies,
)
from functions.capabilities.kubernetes.client import (
    TOKEN_REFRESH_SECONDS,
    _TokenRefresher,
    eks_token,
    kubernetes_clients,
)
from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts
from local.kube.auth import Unauthorized
from local.kube.server import FakeKubernetes
from local.kube.tls import self_signed
from tests.kubernetes.conftest import ACCESS_KEY, CLUSTER, NAMESPACE, sts_client


def decode(token: str) -> urllib.parse.SplitResult:
    assert token.startswith("k8s-aws-v1.")
    encoded = token[len("k8s-aws-v1.") :]
    assert "=" not in encoded
    return urllib.parse.urlsplit(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())


def test_token_is_a_presigned_regional_get_caller_identity_url_binding_the_cluster() -> None:
    # Given a regional STS client
    # When a token is built for the cluster
    url = decode(eks_token(CLUSTER, sts_client(region="eu-west-1")))
    query = dict(urllib.parse.parse_qsl(url.query))
    # Then it is what aws-iam-authenticator builds
    assert (url.scheme, url.netloc, url.path) == ("https", "sts.eu-west-1.amazonaws.com", "/")
    assert query["Action"] == "GetCallerIdentity" and query["Version"] == "2011-06-15"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert (
        query["X-Amz-Credential"].startswith(f"{ACCESS_KEY}/")
        and "/eu-west-1/sts/aws4_request" in query["X-Amz-Credential"]
    )


def test_token_handlers_do_not_leak_into_other_sts_calls() -> None:
    # Given a client used for a token
    client = sts_client()
    eks_token(CLUSTER, client)
    eks_token(CLUSTER, client)
    # When it presigns a plain GetCallerIdentity
    plain = dict(
        urllib.parse.parse_qsl(urllib.parse.urlsplit(client.generate_presigned_url("get_caller_identity")).query)
    )
    # Then no cluster header is signed
    assert plain["X-Amz-SignedHeaders"] == "host"


def test_fake_accepts_the_token_for_its_cluster_and_refuses_others(cluster: tuple[FakeKubernetes, Any]) -> None:
    fake, _ = cluster
    authenticate = fake.authenticator.authenticate
    # Given tokens for this cluster, another cluster, another secret, and an old one
    good = eks_token(CLUSTER, sts_client())
    other_cluster = eks_token("another-cluster", sts_client())
    wrong_secret = eks_token(CLUSTER, sts_client(secret_key="not-the-secret"))
    unknown_key = eks_token(CLUSTER, sts_client(access_key="AKIAUNKNOWN000000000"))
    # Then only the first authenticates
    assert authenticate(f"Bearer {good}") == f"aws-iam:{ACCESS_KEY}"
    for token, reason in [
        (other_cluster, "signature does not match"),
        (wrong_secret, "signature does not match"),
        (unknown_key, "unknown AWS access key"),
        ("k8s-aws-v1.bm90LWEtdXJs", "not an STS endpoint"),
        ("garbage", "unknown token"),
    ]:
        with pytest.raises(Unauthorized, match=reason):
            authenticate(f"Bearer {token}")
    with pytest.raises(Unauthorized, match="expired"):
        authenticate(f"Bearer {good}", now=datetime.now(UTC) + timedelta(minutes=16))
    with pytest.raises(Unauthorized, match="no bearer token"):
        authenticate(None)


def test_clients_for_another_cluster_get_401_status(cluster: tuple[FakeKubernetes, Any]) -> None:
    fake, _ = cluster
    # Given API clients whose token names another cluster
    apps, core = kubernetes_clients(
        endpoint=fake.url, ca_data=fake.ca_data, cluster_name="another-cluster", sts_client=sts_client()
    )
    # When they call the API
    with pytest.raises(ApiException) as raised:
        DeploymentRollouts(apps, core).status(NAMESPACE, "skillancer-web")
    # Then the server answers 401 with a Status, raised as kubernetes.client raises it
    assert isinstance(raised.value, UnauthorizedException) and raised.value.status == 401
    body = json.loads(raised.value.body or "null")
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)


def test_static_token_works_for_kubectl_and_anonymous_is_refused(cluster: tuple[FakeKubernetes, Any]) -> None:
    fake, _ = cluster
    context = ssl.create_default_context(cadata=base64.b64decode(fake.ca_data).decode())

    def get(headers: dict[str, str]) -> int:
        request = urllib.request.Request(fake.url + "/version", headers=headers)
        try:
            with urllib.request.urlopen(request, context=context, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # When called with the kubeconfig's static token, then without any
    # Then 200, then 401
    assert get({"Authorization": f"Bearer {fake.static_token}"}) == 200
    assert get({}) == 401


def test_clients_verify_the_cluster_certificate(cluster: tuple[FakeKubernetes, Any]) -> None:
    fake, _ = cluster
    # Given clients that trust another CA than the cluster's
    other_ca = base64.b64encode(self_signed().cert_pem).decode()
    apps, core = kubernetes_clients(endpoint=fake.url, ca_data=other_ca, cluster_name=CLUSTER, sts_client=sts_client())
    # When they call the API, then TLS verification fails
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        DeploymentRollouts(apps, core).status(NAMESPACE, "skillancer-web")


class CountingSts:
    """Just enough of an STS client to count presignings (the refresh policy is what is under test)."""

    def __init__(self) -> None:
        self.meta = SimpleNamespace(events=SimpleNamespace(register=lambda *a, **k: None))
        self.calls = 0

    def generate_presigned_url(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        return f"https://sts.eu-west-1.amazonaws.com/?n={self.calls}"


def test_token_is_regenerated_after_ten_minutes() -> None:
    # Given a configuration with the refresh hook and a controllable clock
    now = [1000.0]
    sts = CountingSts()
    configuration = Configuration("https://example.invalid")
    _TokenRefresher(CLUSTER, sts, clock=lambda: now[0]).install(configuration)
    first = configuration.get_api_key_with_prefix("BearerToken")
    # When used again 9 minutes later, then at 10 minutes
    now[0] += 9 * 60
    second = configuration.get_api_key_with_prefix("BearerToken")
    now[0] += TOKEN_REFRESH_SECONDS - 9 * 60
    third = configuration.get_api_key_with_prefix("BearerToken")
    # Then the token is reused, then regenerated, always with the Bearer prefix
    assert first == second and first is not None and first.startswith("Bearer k8s-aws-v1.")
    assert third != second and third is not None and third.startswith("Bearer k8s-aws-v1.")
    assert sts.calls == 2


def _calls(apps: Any, core: Any, version: str, *, generated: bool = False) -> None:
    """Read a Deployment, list its ReplicaSets and pods with a set-based selector, send a JSON patch: the calls
    of the adapter, with ``kubernetes.client``'s keyword arguments when ``generated``."""
    raw: dict[str, Any] = {"_preload_content": False} if generated else {}
    selector = "app in (skillancer),component=web,!canary"
    apps.read_namespaced_deployment("skillancer-web", NAMESPACE, **raw)
    apps.list_namespaced_replica_set(NAMESPACE, label_selector=selector, limit=2, _continue=None, **raw)
    core.list_namespaced_pod(NAMESPACE, label_selector=selector, **raw)
    patch = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}]
    content_type = {"_content_type" if generated else "content_type": "application/json-patch+json"}
    apps.patch_namespaced_deployment("skillancer-web", NAMESPACE, patch, **content_type, **raw)


def test_requests_are_the_ones_kubernetes_client_sends(kube: FakeKubernetes, api_clients: tuple[Any, Any]) -> None:
    kubernetes_client = pytest.importorskip("kubernetes.client")
    version = kube.deployment(NAMESPACE, "skillancer-web")["metadata"]["resourceVersion"]
    # Given the generated client (v37), configured as the adapter used to configure it
    configuration = kubernetes_client.Configuration(host=kube.url)
    configuration.ca_cert_data = base64.b64decode(kube.ca_data).decode()
    configuration.api_key = {"BearerToken": eks_token(CLUSTER, sts_client())}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    generated = kubernetes_client.ApiClient(configuration)
    # When both make the adapter's calls
    _calls(kubernetes_client.AppsV1Api(generated), kubernetes_client.CoreV1Api(generated), version, generated=True)
    theirs = list(kube.requests)
    kube.requests.clear()
    _calls(*api_clients, version)
    ours = list(kube.requests)

    # Then the server got the same requests: paths, decoded query strings, content types, bodies, answers
    def seen(requests: list[Any]) -> list[tuple[Any, ...]]:
        return [(r.method, r.path, r.query, r.content_type, r.body, r.status) for r in requests]

    assert seen(ours) == seen(theirs) and len(ours) == 4


def test_errors_are_raised_with_the_status_kubernetes_client_raises(
    kube: FakeKubernetes, api_clients: tuple[Any, Any]
) -> None:
    apps, _ = api_clients
    # When a missing Deployment is read
    with pytest.raises(ApiException) as raised:
        apps.read_namespaced_deployment("nope", NAMESPACE)
    # Then it is a NotFoundException carrying the server's Status
    assert isinstance(raised.value, NotFoundException) and raised.value.status == 404
    assert json.loads(raised.value.body or "null")["reason"] == "NotFound"
    assert str(raised.value).startswith("(404)\nReason: Not Found\n")


def test_proxies_come_from_the_environment_unless_no_proxy_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    host = "https://ABCD.gr7.eu-west-1.eks.amazonaws.com"
    # Given an HTTPS proxy in the environment
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # Then the cluster is reached through it, unless NO_PROXY names the cluster's domain
    assert isinstance(ApiClient(Configuration(host)).pool, urllib3.ProxyManager)
    monkeypatch.setenv("NO_PROXY", "localhost,.eks.amazonaws.com")
    assert not isinstance(ApiClient(Configuration(host)).pool, urllib3.ProxyManager)
    # (kubernetes.client's NO_PROXY rules: *, domain suffixes, host:port, IPs and CIDRs)
    assert should_bypass_proxies("https://10.1.2.3:443", "10.0.0.0/8")
    assert should_bypass_proxies("https://api.example.com:6443", "example.com:6443,other")
    assert should_bypass_proxies("https://anything", "*")
    assert not should_bypass_proxies("https://api.example.com", "ample.com,10.0.0.0/8")
