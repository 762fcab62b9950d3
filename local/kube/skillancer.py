"""The Skillancer fixture: skillancer-web and skillancer-api with three revisions each, the last one broken."""

from __future__ import annotations

from local.kube.server import FakeKubernetes

REGISTRY = "registry.example.com"
VERSIONS = ("v1.0.0-rc.4", "v1.0.0-rc.5", "v1.0.0")  # revisions 1, 2, 3
SERVICES = {"skillancer-web": "web", "skillancer-api": "api"}


def image(deployment: str, version: str) -> str:
    return f"{REGISTRY}/{deployment}:{version}"


def seed_skillancer(fake: FakeKubernetes, namespace: str = "production", *, replicas: int = 3) -> None:
    """Deploy rc.4, rc.5, then v1.0.0 to both Deployments (revisions 1, 2, 3), settling after each deploy."""
    for version in VERSIONS:
        for name, component in SERVICES.items():
            fake.apply_deployment(
                namespace,
                name,
                image=image(name, version),
                replicas=replicas,
                change_cause=f"deploy {version}",
                labels={"app": "skillancer", "component": component},
            )
        fake.settle()
