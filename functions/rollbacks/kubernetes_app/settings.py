"""Runtime settings of the ``kubernetes_app`` functions: the cluster they talk to."""

from __future__ import annotations

from pydantic import Field

from functions.settings import FunctionSettings


class ClusterSettings(FunctionSettings):
    cluster_name: str = Field(min_length=1)
    cluster_endpoint: str = Field(min_length=1)
    cluster_ca_data: str | None = None
    rollout_timeout_seconds: int = Field(default=600, gt=0)
