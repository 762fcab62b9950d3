"""What a ``kubernetes_app`` rollback targets: Deployments of one namespace, and the revision to go back to."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.models.rollback import NAME_PATTERN

DeploymentName = Annotated[str, Field(pattern=NAME_PATTERN, max_length=253)]


class KubernetesAppTarget(BaseModel):
    """The ``target`` of a ``kubernetes_app`` rollback (runbook procedure 1: ``kubectl rollout undo``)."""

    # The published schema says what the validator below does: never both a revision and a version.
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"not": {"required": ["to_revision", "to_version"]}}
    )

    namespace: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        max_length=63,
        description="Kubernetes namespace; defaults to the environment.",
    )
    deployments: list[DeploymentName] = Field(
        min_length=1,
        max_length=20,
        description="Deployments to roll back together, e.g. skillancer-web.",
        json_schema_extra={"cli_option": "--deployment", "uniqueItems": True},
    )
    to_revision: int | None = Field(
        default=None,
        ge=1,
        description="Roll back to this revision (kubectl numbering); default: the previous one.",
        json_schema_extra={"cli_option": "--revision"},
    )
    to_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Roll back to the newest revision whose image tag equals this version, e.g. v1.0.0-rc.5.",
        json_schema_extra={"cli_option": "--version"},
    )

    @model_validator(mode="before")
    @classmethod
    def _one_target_at_most(cls, data: Any) -> Any:
        if isinstance(data, dict) and "to_revision" in data and "to_version" in data:
            raise ValueError("to_revision and to_version are mutually exclusive")
        return data

    @model_validator(mode="after")
    def _deployments_unique(self) -> Self:
        if len(set(self.deployments)) != len(self.deployments):
            raise ValueError("deployments: each deployment may appear only once")
        return self

    def namespace_in(self, environment: str) -> str:
        return self.namespace or environment
