"""Deployment configuration of ``kubernetes_app`` (``rollback.types.kubernetes_app`` in ``cdk.json``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from functions.capabilities.kubernetes.settings import ClusterConfig
from functions.rollbacks.contract import NetworkPlacement, TypeConfig


class KubernetesAppConfig(TypeConfig):
    cluster: ClusterConfig
    rollout_timeout_seconds: int = Field(default=600, gt=0, description="How long a rollout may take.")
    network: NetworkPlacement | None = Field(
        default=None, description="Subnets and security groups that reach a cluster with a private endpoint."
    )

    def network_placement(self, function: str) -> NetworkPlacement | None:
        return self.network

    def environment(self) -> Mapping[str, str]:
        return self.cluster.environment(self.rollout_timeout_seconds)
