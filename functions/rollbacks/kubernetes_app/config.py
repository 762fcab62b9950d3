"""Deployment configuration of ``kubernetes_app`` (``rollback.types.kubernetes_app`` in ``cdk.json``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from functions.capabilities.kubernetes.settings import ClusterConfig
from functions.rollbacks.contract import TypeConfig


class KubernetesAppConfig(TypeConfig):
    cluster: ClusterConfig
    rollout_timeout_seconds: int = Field(default=600, gt=0, description="How long a rollout may take.")

    def environment(self) -> Mapping[str, str]:
        return self.cluster.environment(self.rollout_timeout_seconds)
