"""What an ``infrastructure`` rollback targets (runbook procedure 5): a Terraform plan with the previous values file,
and/or an ECS service rolled back to a previous task definition revision. Flat, so that every field is one option of
``rollback start infrastructure``. Its revert is the same target with the current values and the task definition the
service ran before."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

TerraformAddress = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\[\]\"-]+$")]
EcsName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class InfrastructureTarget(BaseModel):
    """The ``target`` of an ``infrastructure`` rollback: Terraform with the previous values, an ECS service to a
    previous revision, or both (the Terraform apply first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terraform: bool = Field(
        default=False,
        description="Run terraform plan with the previous values file, approve its summary, apply that saved plan.",
    )
    values: Literal["previous", "current"] = Field(
        default="previous",
        description="previous: plan with the previous values file (a rollback); current: with the values in use "
        "before it (what rollback revert plans).",
    )
    targets: list[TerraformAddress] = Field(
        default_factory=lambda: ["module.ecs"],
        min_length=1,
        max_length=20,
        description="Resource addresses the Terraform plan is limited to (-target), e.g. module.ecs.",
        json_schema_extra={"cli_option": "--target"},
    )
    allow_destroy: bool = Field(
        default=False,
        description="The approval covers a Terraform plan that destroys resources (stated on the approval page); "
        "without it such a plan is refused.",
    )
    ecs_cluster: EcsName | None = Field(default=None, description="ECS cluster of the service to roll back.")
    ecs_service: EcsName | None = Field(default=None, description="ECS service to roll back, e.g. skillancer-api.")
    to_task_definition: str | None = Field(
        default=None,
        min_length=3,
        max_length=300,
        pattern=r"^[A-Za-z0-9_-]+:[0-9]+$",
        description="Task definition to roll the ECS service back to as family:revision; default: the revision "
        "before the current.",
    )

    @model_validator(mode="after")
    def _something_to_roll_back(self) -> Self:
        if (self.ecs_cluster is None) != (self.ecs_service is None):
            raise ValueError("ecs_cluster and ecs_service go together")
        if self.to_task_definition is not None and self.ecs_service is None:
            raise ValueError("to_task_definition needs ecs_cluster and ecs_service")
        if not self.terraform and self.ecs_service is None:
            raise ValueError("name terraform, an ECS service (ecs_cluster, ecs_service), or both")
        return self

    @property
    def ecs(self) -> bool:
        return self.ecs_service is not None
