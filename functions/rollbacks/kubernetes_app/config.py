"""Deployment configuration of ``kubernetes_app`` (``rollback.types.kubernetes_app`` in ``cdk.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from functions.capabilities.kubernetes.settings import ClusterConfig
from functions.models.rollback import NAME_PATTERN
from functions.rollbacks.contract import ClusterAccess, NetworkPlacement, TypeConfig

READERS = {"Plan", "CheckRollout", "CheckPods"}
WRITER = "RollBackDeployment"


class KubernetesAppConfig(TypeConfig):
    cluster: ClusterConfig
    namespaces: list[Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]] = Field(
        default_factory=lambda: ["production"],
        min_length=1,
        description="The namespaces whose Deployments may be rolled back (a rollback's namespace defaults to its "
        "environment): the functions' cluster access is scoped to them.",
    )
    rollout_timeout_seconds: int = Field(default=600, gt=0, description="How long a rollout may take.")
    network: NetworkPlacement | None = Field(
        default=None, description="Subnets and security groups that reach a cluster with a private endpoint."
    )

    def network_placement(self, function: str) -> NetworkPlacement | None:
        return self.network

    def environment(self) -> Mapping[str, str]:
        return self.cluster.environment(self.rollout_timeout_seconds)

    def cluster_access(self, function: str) -> ClusterAccess | None:
        if function not in READERS | {WRITER}:
            return None
        return ClusterAccess(
            self.cluster.name, tuple(self.namespaces), patches=function == WRITER, in_stack=self.cluster.access_entries
        )
