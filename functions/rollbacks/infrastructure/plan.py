"""Pre-checks of an infrastructure rollback: the Terraform plan (run and read here, so that approvers approve its
summary) and the ECS service's current and previous task definitions. The plan always has two changes, the
Terraform apply then the ECS rollback; one not asked for is skipped."""

from __future__ import annotations

from typing import Any

from functions.models.rollback import PlannedChange, RollbackPlan, RollbackRequest
from functions.rollbacks.contract import revert_text
from functions.rollbacks.infrastructure import ecs as ecs_service
from functions.rollbacks.infrastructure import terraform
from functions.rollbacks.infrastructure.config import InfrastructureSettings
from functions.rollbacks.infrastructure.input import InfrastructureTarget
from functions.rollbacks.infrastructure.kinds import ECS_KIND, TERRAFORM_KIND


def _not_asked(kind: str, what: str) -> PlannedChange:
    return PlannedChange(
        target=f"{what} (not asked for)",
        kind=kind,
        before="unchanged",
        after="unchanged",
        revert="nothing to revert",
        resource=f"infrastructure:{what}",
        skip=True,
    )


def terraform_change(
    request: RollbackRequest,
    target: InfrastructureTarget,
    codebuild: Any,
    s3: Any,
    settings: InfrastructureSettings,
    warnings: list[str],
) -> PlannedChange:
    config = settings.terraform_config()
    saved = terraform.run_plan(
        codebuild,
        s3,
        config,
        list(target.targets),
        request.rollback_id,
        values=target.values,
        timeout=settings.plan_timeout_seconds,
        poll=settings.plan_poll_seconds,
    )
    destroyed = saved.destroys + saved.replaces
    if destroyed:
        if target.allow_destroy:
            warnings.append(
                f"The requester allows this plan to destroy resources (allow_destroy): {', '.join(destroyed)}. "
                "Approving approves destroying them."
            )
        else:
            warnings.append(
                f"The plan destroys {', '.join(destroyed)}: it will be refused and nothing applied, because the "
                "request does not allow destroying resources (allow_destroy)."
            )
    arguments = terraform.plan_arguments(config, list(target.targets), target.values)
    back = "current" if target.values == "previous" else "previous"
    by_hand = (
        f"terraform plan -input=false {terraform.plan_arguments(config, list(target.targets), back)} -out=tfplan "
        "&& terraform apply -input=false tfplan"
    )
    return PlannedChange(
        target=f"Terraform {', '.join(target.targets)} with {config.values_text(target.values)}",
        kind=TERRAFORM_KIND,
        before="the current Terraform state",
        after=f"terraform apply of saved plan {saved.sha256[:12]}: {saved.text()}",
        detail=f"{saved.text()}; terraform plan {arguments} (Terraform "
        f"{saved.terraform_version}, build {saved.build_id}, logs: {saved.logs}); the apply runs exactly this saved "
        f"plan: s3://{saved.bucket}/{saved.key} version {saved.version_id}, SHA-256 {saved.sha256}",
        revert=revert_text(request.rollback_id, by_hand),
        resource=f"terraform:{config.plans_bucket}:{','.join(target.targets)}",
        skip=saved.empty,
        parameters={
            "apply_project": config.apply_project,
            "bucket": saved.bucket,
            "key": saved.key,
            "version_id": saved.version_id,
            "sha256": saved.sha256,
            "targets": list(target.targets),
            "values": target.values,
            "adds": len(saved.adds) + len(saved.replaces),
            "changes": len(saved.changes),
            "destroys": len(destroyed),
            "destroyed": destroyed,
            "allow_destroy": target.allow_destroy,
        },
    )


def ecs_change(
    request: RollbackRequest, target: InfrastructureTarget, ecs: Any, settings: InfrastructureSettings
) -> PlannedChange:
    assert target.ecs_cluster is not None and target.ecs_service is not None
    cluster, name = target.ecs_cluster, target.ecs_service
    settings.check_service(cluster, name)
    service = ecs_service.describe_service(ecs, cluster, name)
    to = ecs_service.rollback_revision(ecs, service.task_definition, target.to_task_definition)
    where = f"{cluster}/{name}"
    current = ":".join(map(str, ecs_service.family_revision(service.task_definition)))
    wanted = ":".join(map(str, ecs_service.family_revision(to)))
    return PlannedChange(
        target=f"ECS service {where}",
        kind=ECS_KIND,
        before=f"task definition {current}",
        after=f"task definition {wanted}",
        detail=f"{service.running}/{service.desired} tasks running; waits for the deployment to complete",
        revert=revert_text(
            request.rollback_id,
            f"aws ecs update-service --cluster {cluster} --service {name} --task-definition {service.task_definition}",
        ),
        resource=f"ecs:{where}",
        skip=to == service.task_definition,
        parameters={"cluster": cluster, "service": name, "from": service.task_definition, "to": to},
    )


def plan_rollback(
    request: RollbackRequest, codebuild: Any, s3: Any, ecs: Any, settings: InfrastructureSettings
) -> RollbackPlan:
    target = InfrastructureTarget.model_validate(request.target)
    warnings: list[str] = []
    # the cheap checks first: no plan build for a service that cannot be rolled back
    service = ecs_change(request, target, ecs, settings) if target.ecs else _not_asked(ECS_KIND, "ecs")
    tf = (
        terraform_change(request, target, codebuild, s3, settings, warnings)
        if target.terraform
        else _not_asked(TERRAFORM_KIND, "terraform")
    )
    summary = (
        "; ".join(
            part
            for part in (
                f"terraform apply of the saved plan ({tf.after.split(': ', 1)[-1]})" if not tf.skip else "",
                f"{service.target}: {service.before} -> {service.after}" if not service.skip else "",
            )
            if part
        )
        or "nothing to change"
    )
    return RollbackPlan(
        changes=[tf, service],
        feature_flag_options=request.feature_flags,
        summary=summary,
        warnings=warnings,
    )
