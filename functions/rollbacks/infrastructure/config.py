"""Deployment configuration of ``infrastructure`` (``rollback.types.infrastructure`` in ``cdk.json``): the CodeBuild
projects that run ``terraform plan`` and ``terraform apply`` (the team's own: image with Terraform, source checkout,
state backend access), the previous values file, where the plan build puts the saved plan and its JSON document,
the ECS services this type may roll back, and how long the builds and the ECS deployment may take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from functions.errors import InvalidRollbackInput
from functions.rollbacks.contract import Permission, TypeConfig
from functions.settings import FunctionSettings

ProjectName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
EcsName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")]
PLAN_TIMEOUT_LIMIT = 840  # the Plan function waits for the plan build within Lambda's 15 minutes


class TerraformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plan_project: ProjectName = Field(description="CodeBuild project that runs terraform plan (read-only role).")
    apply_project: ProjectName = Field(description="CodeBuild project that runs terraform apply of a saved plan.")
    var_file: str = Field(
        default="previous-values.tfvars",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*\.tfvars(\.json)?$",
        description="The previous values file, as in the runbook.",
    )
    current_var_file: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*\.tfvars(\.json)?$",
        description="The values file in use normally, which a revert plans with; none: Terraform's own "
        "(terraform.tfvars, *.auto.tfvars).",
    )
    plans_bucket: BucketName = Field(description="Versioned bucket where the plan build puts the saved plan.")
    plans_prefix: str = Field(default="terraform-plans", pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*[A-Za-z0-9]$")

    def values_file(self, values: str) -> str | None:
        """The ``-var-file`` of a plan with the ``previous`` or the ``current`` values."""
        return self.var_file if values == "previous" else self.current_var_file

    def values_text(self, values: str) -> str:
        return self.values_file(values) or "the current values"


class InfrastructureConfig(TypeConfig):
    terraform: TerraformConfig | None = Field(default=None, description="Terraform rollbacks; none: not offered.")
    ecs_services: dict[EcsName, list[EcsName]] = Field(
        default_factory=dict, description="ECS services this type may roll back, by cluster."
    )
    plan_timeout_seconds: int = Field(
        default=600, ge=30, le=PLAN_TIMEOUT_LIMIT, description="How long the pre-checks wait for the plan build."
    )
    plan_poll_seconds: float = Field(default=10, ge=0, le=60, description="How often the pre-checks read the build.")
    apply_timeout_seconds: int = Field(default=1800, ge=60, description="How long terraform apply may run.")
    deployment_timeout_seconds: int = Field(default=900, ge=60, description="How long the ECS deployment may take.")

    def environment(self) -> Mapping[str, str]:
        return InfrastructureSettings(
            terraform=self.terraform,
            ecs_services=self.ecs_services,
            plan_timeout_seconds=self.plan_timeout_seconds,
            plan_poll_seconds=self.plan_poll_seconds,
            apply_timeout_seconds=self.apply_timeout_seconds,
            deployment_timeout_seconds=self.deployment_timeout_seconds,
        ).as_environment()

    def own_states_seconds(self) -> int:
        return self.plan_timeout_seconds + self.apply_timeout_seconds + self.deployment_timeout_seconds

    def permissions(self, function: str) -> Sequence[Permission]:
        found: dict[str, list[Permission]] = {}
        if self.terraform is not None:
            tf = self.terraform
            plans = (f"{tf.plans_bucket}/{tf.plans_prefix}/*",)
            why = "each rollback's saved plan is under <prefix>/<rollback id>/"
            plan_project = (f"project/{tf.plan_project}",)
            apply_project = (f"project/{tf.apply_project}",)
            read_plan = Permission(("s3:GetObject", "s3:GetObjectVersion"), "s3", plans, reason=why, scope="global")
            found["Plan"] = [
                Permission(
                    ("codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"),
                    "codebuild",
                    plan_project,
                ),
                read_plan,
            ]
            found["ApplyTerraform"] = [
                Permission(
                    ("codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"),
                    "codebuild",
                    apply_project,
                ),
                read_plan,
            ]
            found["CheckTerraform"] = [Permission(("codebuild:BatchGetBuilds",), "codebuild", apply_project)]
            found["RecordTerraform"] = [Permission(("codebuild:BatchGetBuilds",), "codebuild", apply_project)]
        if self.ecs_services:
            services = tuple(
                f"service/{cluster}/{service}"
                for cluster, names in sorted(self.ecs_services.items())
                for service in names
            )
            describe = Permission(("ecs:DescribeServices",), "ecs", services)
            why = "ecs:DescribeTaskDefinition and ecs:ListTaskDefinitions cannot be scoped to a resource"
            task_definitions = Permission(
                ("ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"), "ecs", ("*",), reason=why, scope="unscoped"
            )
            found["Plan"] = [*found.get("Plan", []), describe, task_definitions]
            found["RollBackService"] = [Permission(("ecs:DescribeServices", "ecs:UpdateService"), "ecs", services)]
            found["CheckService"] = [describe]
            found["RecordService"] = [describe]
        return found.get(function, ())


class InfrastructureSettings(FunctionSettings):
    """Runtime settings of the ``infrastructure`` functions."""

    terraform: TerraformConfig | None = None
    ecs_services: dict[str, list[str]] = Field(default_factory=dict)
    plan_timeout_seconds: int = Field(default=600, gt=0)
    plan_poll_seconds: float = Field(default=10, ge=0)
    apply_timeout_seconds: int = Field(default=1800, gt=0)
    deployment_timeout_seconds: int = Field(default=900, gt=0)

    def terraform_config(self) -> TerraformConfig:
        if self.terraform is None:
            raise InvalidRollbackInput("target.terraform: Terraform rollbacks are not configured")
        return self.terraform

    def check_service(self, cluster: str, service: str) -> None:
        if service not in self.ecs_services.get(cluster, []):
            allowed = ", ".join(f"{c}/{s}" for c, names in sorted(self.ecs_services.items()) for s in names)
            raise InvalidRollbackInput(
                f"target.ecs: {cluster}/{service} is not configured for rollbacks (configured: {allowed or 'none'})"
            )
