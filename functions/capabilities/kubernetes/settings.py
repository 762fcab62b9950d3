"""The cluster the Kubernetes-facing functions talk to: its deployment configuration (``cluster`` in a type's
section of ``cdk.json``) and the runtime settings it becomes."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationInfo, field_validator

from functions.settings import FunctionSettings, load_settings

LOCAL_EMULATION = "local-emulation"  # the deployment profile (``rollback.profile``) of the tests and the drill
PLACEHOLDER_MARK = "EXAMPLE"  # cdk.json's endpoint until a deployer sets the cluster's own
DESCRIBE_CLUSTER = (
    "set the cluster's endpoint and certificateAuthority.data from `aws eks describe-cluster --name <cluster>` "
    f'(placeholders are accepted only with "profile": "{LOCAL_EMULATION}", which the emulators use)'
)


class ClusterSettings(FunctionSettings):
    cluster_name: str = Field(min_length=1)
    cluster_endpoint: str = Field(min_length=1)
    cluster_ca_data: str | None = None
    rollout_timeout_seconds: int = Field(default=600, gt=0)


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="EKS cluster name (signed into the IAM token).")
    endpoint: HttpUrl = Field(description="API server endpoint.")
    ca_data: str = Field(
        default="", validate_default=True, description="certificateAuthority.data of DescribeCluster (base64)."
    )
    access_entries: bool = Field(
        default=True,
        description="Create the functions' EKS access entries in this stack (the cluster is in the stack's account "
        "and region); false: whoever administers the cluster creates them for the role ARNs the stack outputs.",
    )

    @field_validator("endpoint")
    @classmethod
    def _a_real_endpoint(cls, endpoint: HttpUrl, info: ValidationInfo) -> HttpUrl:
        if PLACEHOLDER_MARK in str(endpoint).upper() and not _local_emulation(info):
            raise ValueError(f"{endpoint} is a placeholder; {DESCRIBE_CLUSTER}")
        return endpoint

    @field_validator("ca_data")
    @classmethod
    def _a_certificate_authority(cls, ca_data: str, info: ValidationInfo) -> str:
        if not ca_data.strip() and not _local_emulation(info):
            raise ValueError(f"empty: the client could not verify the API server; {DESCRIBE_CLUSTER}")
        return ca_data

    def environment(self, rollout_timeout_seconds: int) -> Mapping[str, str]:
        return ClusterSettings(
            cluster_name=self.name,
            cluster_endpoint=str(self.endpoint).rstrip("/"),
            cluster_ca_data=self.ca_data or None,
            rollout_timeout_seconds=rollout_timeout_seconds,
        ).as_environment()


def _local_emulation(info: ValidationInfo) -> bool:
    context = info.context if isinstance(info.context, Mapping) else {}
    return context.get("profile") == LOCAL_EMULATION


def cluster_apps(sts_client: Any) -> Any:
    """The apps/v1 client of the configured cluster (one per process and cluster)."""
    settings = load_settings(ClusterSettings)
    return _apps(settings.cluster_name, settings.cluster_endpoint, settings.cluster_ca_data, sts_client)


@lru_cache(maxsize=4)
def _apps(name: str, endpoint: str, ca_data: str | None, sts_client: Any) -> Any:
    from functions.capabilities.kubernetes.client import kubernetes_clients

    apps, _ = kubernetes_clients(endpoint=endpoint, ca_data=ca_data, cluster_name=name, sts_client=sts_client)
    return apps
