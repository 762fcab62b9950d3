"""Fixtures: one fake cluster per session (HTTPS on 127.0.0.1), reset to the seeded Skillancer state per test.

The fake runs without its background ticker here: tests advance the controller themselves (``kube.tick()``,
``kube.settle()``) so every intermediate state is deterministic; ``kube.ticking()`` runs it in the background.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.kube.server import FakeKubernetes
from local.kube.skillancer import seed_skillancer

CLUSTER = "skillancer-prod"
NAMESPACE = "production"
ACCESS_KEY, SECRET_KEY = "AKIAFAKEKUBETESTS000", "fake-kube-secret-for-tests"
DEADLINE_TICKS = 15


def sts_client(access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, region: str = "eu-west-1") -> Any:
    """A regional STS client with static credentials; presigning needs no network."""
    return boto3.client("sts", region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key)


@pytest.fixture(scope="session")
def cluster() -> Iterator[tuple[FakeKubernetes, dict[str, Any]]]:
    with FakeKubernetes(
        cluster_name=CLUSTER,
        tick_interval=None,
        progress_deadline_ticks=DEADLINE_TICKS,
        aws_credentials={ACCESS_KEY: SECRET_KEY},
    ) as fake:
        seed_skillancer(fake, namespace=NAMESPACE)
        yield fake, fake.snapshot()


@pytest.fixture
def kube(cluster: tuple[FakeKubernetes, dict[str, Any]]) -> FakeKubernetes:
    """The session's fake cluster, back at the seeded state: skillancer-web/api at revisions 1, 2, 3 (v1.0.0)."""
    fake, seeded = cluster
    fake.restore(seeded)
    fake.requests.clear()
    return fake


@pytest.fixture(scope="session")
def api_clients(cluster: tuple[FakeKubernetes, dict[str, Any]]) -> tuple[Any, Any]:
    from functions.capabilities.kubernetes.client import kubernetes_clients

    fake, _ = cluster
    return kubernetes_clients(endpoint=fake.url, ca_data=fake.ca_data, cluster_name=CLUSTER, sts_client=sts_client())


@pytest.fixture
def rollouts(kube: FakeKubernetes, api_clients: tuple[Any, Any]) -> Any:
    from functions.rollbacks.kubernetes_app.adapters.rollouts import DeploymentRollouts

    return DeploymentRollouts(*api_clients)
