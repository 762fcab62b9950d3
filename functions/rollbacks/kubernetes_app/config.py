"""Deployment configuration of ``kubernetes_app`` (``rollback.types.kubernetes_app`` in ``cdk.json``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from functions.rollbacks.contract import TypeConfig
from functions.rollbacks.kubernetes_app.settings import ClusterSettings


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="EKS cluster name (signed into the IAM token).")
    endpoint: HttpUrl = Field(description="API server endpoint.")
    ca_data: str = Field(default="", description="certificateAuthority.data of DescribeCluster (base64).")


class KubernetesAppConfig(TypeConfig):
    cluster: ClusterConfig
    rollout_timeout_seconds: int = Field(default=600, gt=0, description="How long a rollout may take.")

    def environment(self) -> Mapping[str, str]:
        return ClusterSettings(
            cluster_name=self.cluster.name,
            cluster_endpoint=str(self.cluster.endpoint).rstrip("/"),
            cluster_ca_data=self.cluster.ca_data or None,
            rollout_timeout_seconds=self.rollout_timeout_seconds,
        ).as_environment()
