"""The kinds of change an ``infrastructure`` rollback plans: what its ASL part routes on and what its revert reads."""

TERRAFORM_KIND = "infrastructure.terraform-apply"
ECS_KIND = "infrastructure.ecs-task-definition"
