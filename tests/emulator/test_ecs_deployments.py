"""The ECS deployments stand-in (local/aws/ecs.py), and the canary showing moto's own UpdateService still starts no
deployment (a failing canary after a moto upgrade says the patch may go)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws.ecs import DEPLOYMENTS
from local.aws.emulator import AwsEmulator
from local.aws.patches import moto_original


@pytest.fixture
def ecs() -> Iterator[Any]:
    """A service on revision 2 of its family, two tasks wanted."""
    with AwsEmulator():
        client = boto3.client("ecs", region_name="us-east-1")
        client.create_cluster(clusterName="c")
        for tag in ("v1", "v2"):
            client.register_task_definition(
                family="api", containerDefinitions=[{"name": "api", "image": f"api:{tag}", "memory": 128}]
            )
        client.create_service(cluster="c", serviceName="api", taskDefinition="api:2", desiredCount=2)
        yield client


def primary(client: Any) -> dict[str, Any]:
    deployments = client.describe_services(cluster="c", services=["api"])["services"][0]["deployments"]
    found: dict[str, Any] = next(d for d in deployments if d["status"] == "PRIMARY")
    return found


def test_a_new_task_definition_starts_a_deployment_that_completes_after_the_scripted_reads(ecs: Any) -> None:
    # Given a deployment scripted to read in progress twice
    DEPLOYMENTS.script("api", reads_in_progress=2)
    # When the service is pointed at revision 1
    ecs.update_service(cluster="c", service="api", taskDefinition="api:1")
    # Then a new PRIMARY deployment of revision 1 is in progress (the old one ACTIVE) for two reads, then completes
    reads = [primary(ecs) for _ in range(3)]
    assert [d["rolloutState"] for d in reads] == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    assert all(d["taskDefinition"].endswith("api:1") for d in reads)
    assert [d["runningCount"] for d in reads] == [0, 0, 2]
    (only,) = ecs.describe_services(cluster="c", services=["api"])["services"][0]["deployments"]
    assert only["status"] == "PRIMARY"


def test_a_scripted_failure_fails_the_deployment(ecs: Any) -> None:
    DEPLOYMENTS.script("api", reads_in_progress=0, state="FAILED")
    ecs.update_service(cluster="c", service="api", taskDefinition="api:1")
    assert primary(ecs)["rolloutState"] == "FAILED"


def test_canary_moto_starts_no_deployment_for_a_new_task_definition(ecs: Any) -> None:
    # When moto's own UpdateService points the service at revision 1
    with moto_original("EC2ContainerServiceBackend.update_service", "EC2ContainerServiceBackend.describe_services"):
        ecs.update_service(cluster="c", service="api", taskDefinition="api:1")
        found = primary(ecs)
    # Then its PRIMARY deployment still runs revision 2, and never completes: nothing to wait for
    assert found["taskDefinition"].endswith("api:2") and found["rolloutState"] != "COMPLETED"
