"""The cluster the Kubernetes-facing functions talk to: its deployment configuration (``cluster`` in a type's
section of ``cdk.json``) and the runtime settings it becomes."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from functions.settings import FunctionSettings, load_settings


class ClusterSettings(FunctionSettings):
    cluster_name: str = Field(min_length=1)
    cluster_endpoint: str = Field(min_length=1)
    cluster_ca_data: str | None = None
    rollout_timeout_seconds: int = Field(default=600, gt=0)


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="EKS cluster name (signed into the IAM token).")
    endpoint: HttpUrl = Field(description="API server endpoint.")
    ca_data: str = Field(default="", description="certificateAuthority.data of DescribeCluster (base64).")

    def environment(self, rollout_timeout_seconds: int) -> Mapping[str, str]:
        return ClusterSettings(
            cluster_name=self.name,
            cluster_endpoint=str(self.endpoint).rstrip("/"),
            cluster_ca_data=self.ca_data or None,
            rollout_timeout_seconds=rollout_timeout_seconds,
        ).as_environment()


def cluster_apps(sts_client: Any) -> Any:
    """The apps/v1 client of the configured cluster (one per process and cluster)."""
    settings = load_settings(ClusterSettings)
    return _apps(settings.cluster_name, settings.cluster_endpoint, settings.cluster_ca_data, sts_client)


@lru_cache(maxsize=4)
def _apps(name: str, endpoint: str, ca_data: str | None, sts_client: Any) -> Any:
    from functions.capabilities.kubernetes.client import kubernetes_clients

    apps, _ = kubernetes_clients(endpoint=endpoint, ca_data=ca_data, cluster_name=name, sts_client=sts_client)
    return apps
