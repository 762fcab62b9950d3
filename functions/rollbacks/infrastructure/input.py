"""What an ``infrastructure`` rollback targets (runbook procedure 5): a Terraform plan with the previous values file,
and/or an ECS service rolled back to a previous task definition revision."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

TerraformAddress = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\[\]\"-]+$")]
EcsName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class TerraformTarget(BaseModel):
    """``terraform plan -var-file=<previous values> -target=...``, approved, then ``terraform apply`` of that plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[TerraformAddress] = Field(
        default_factory=lambda: ["module.ecs"],
        min_length=1,
        max_length=20,
        description="Resource addresses the plan is limited to (-target), e.g. module.ecs.",
    )
    allow_destroy: bool = Field(
        default=False,
        description="The approval covers a plan that destroys resources (stated on the approval page); without it "
        "such a plan is refused.",
    )


class EcsTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: EcsName = Field(description="ECS cluster, e.g. skillancer-production.")
    service: EcsName = Field(description="ECS service, e.g. skillancer-api.")
    to_task_definition: str | None = Field(
        default=None,
        min_length=3,
        max_length=300,
        pattern=r"^[A-Za-z0-9_-]+:[0-9]+$",
        description="Task definition to roll back to as family:revision; default: the revision before the current.",
    )


class InfrastructureTarget(BaseModel):
    """The ``target`` of an ``infrastructure`` rollback: a Terraform rollback, an ECS rollback, or both (the
    Terraform apply first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terraform: TerraformTarget | None = Field(default=None, description="Roll back with the previous values file.")
    ecs: EcsTarget | None = Field(default=None, description="Roll an ECS service back to a previous revision.")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.terraform is None and self.ecs is None:
            raise ValueError("name terraform, ecs or both")
        return self
