"""Stand-ins for the Terraform builds of the ``infrastructure`` type: no package registry the tests can use serves a
current Terraform binary, and moto does not run CodeBuild builds. A plan build puts what ``terraform plan -out=tfplan``
and ``terraform show -json tfplan`` would put in the plans bucket (a saved plan, and its document in Terraform's JSON
plan format); an apply build fetches the saved plan version it is given, checks its SHA-256 as the real buildspec
does, and records what it applied.

    TERRAFORM.install("skillancer-terraform-plan", "skillancer-terraform-apply")
    TERRAFORM.plan_changes([update("module.ecs.aws_ecs_service.api"), delete("module.ecs.aws_lb_listener.old")])

A plan without the previous values file (a revert's) finds the reverse of those changes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from local.aws.codebuild import BUILDS, StartedBuild

TERRAFORM_VERSION = "1.9.8"


def resource_change(address: str, actions: list[str], before: Any = None, after: Any = None) -> dict[str, Any]:
    """One entry of ``resource_changes`` as ``terraform show -json`` writes it."""
    module, _, rest = address.rpartition(".aws_")
    kind, _, name = f"aws_{rest}".partition(".")
    entry: dict[str, Any] = {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": {},
            "after_sensitive": {},
        },
    }
    if module:
        entry["module_address"] = module
    if actions == ["delete", "create"]:
        entry["action_reason"] = "replace_because_cannot_update"
    return entry


def reverse(change: dict[str, Any]) -> dict[str, Any]:
    """What a plan with the other values finds for ``change``: an update back, a create for a delete and the
    reverse, a replacement again."""
    actions = change["change"]["actions"]
    opposite = {("update",): ["update"], ("delete",): ["create"], ("create",): ["delete"]}.get(tuple(actions), actions)
    return resource_change(change["address"], opposite, change["change"]["after"], change["change"]["before"])


def update(address: str) -> dict[str, Any]:
    return resource_change(
        address, ["update"], {"task_definition": "skillancer-api:8"}, {"task_definition": "skillancer-api:7"}
    )


def delete(address: str) -> dict[str, Any]:
    return resource_change(address, ["delete"], {"id": address}, None)


@dataclass(frozen=True)
class AppliedPlan:
    build_id: str
    key: str
    version_id: str
    sha256: str
    document: dict[str, Any]


class TerraformStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: list[dict[str, Any]] = [update("module.ecs.aws_ecs_service.api")]
        self.applied: list[AppliedPlan] = []
        self.documents: dict[str, dict[str, Any]] = {}  # saved plan SHA-256 -> its JSON document

    def install(self, plan_project: str, apply_project: str) -> None:
        BUILDS.on_success(plan_project, self._plan)
        BUILDS.on_success(apply_project, self._apply)

    def set_up(self, plan_project: str, apply_project: str, plans_bucket: str) -> None:
        """The team's two Terraform CodeBuild projects and the versioned plans bucket in moto, their builds stood in
        for by this (what was planned and applied before is forgotten)."""
        import boto3

        self.clear()
        self.install(plan_project, apply_project)
        codebuild, s3 = boto3.client("codebuild"), boto3.client("s3")
        for project in (plan_project, apply_project):
            codebuild.create_project(
                name=project,
                source={"type": "S3", "location": "skillancer-builds/infrastructure.zip"},
                artifacts={"type": "NO_ARTIFACTS"},
                environment={
                    "type": "LINUX_CONTAINER",
                    "image": "hashicorp/terraform:1.9",
                    "computeType": "BUILD_GENERAL1_SMALL",
                },
                serviceRole=f"arn:aws:iam::123456789012:role/{project}",
            )
        s3.create_bucket(Bucket=plans_bucket)
        s3.put_bucket_versioning(Bucket=plans_bucket, VersioningConfiguration={"Status": "Enabled"})

    def plan_changes(self, changes: list[dict[str, Any]]) -> None:
        """What the next plans find to change."""
        with self._lock:
            self._changes = list(changes)

    def clear(self) -> None:
        with self._lock:
            self._changes = [update("module.ecs.aws_ecs_service.api")]
            self.applied.clear()
            self.documents.clear()

    def _plan(self, build: StartedBuild) -> str:
        """With the previous values file the plan finds the changes set by :meth:`plan_changes`; without it (the
        current values, a revert's plan), their reverse: what the previous values' apply changed, changed back."""
        bucket, prefix = build.variables["PLAN_BUCKET"], build.variables["PLAN_PREFIX"]
        with self._lock:
            changes = list(self._changes)
        if not any("-var-file=previous-values.tfvars" in command for command in build.commands):
            changes = [reverse(change) for change in changes]
        document = {
            "format_version": "1.2",
            "terraform_version": TERRAFORM_VERSION,
            "variables": {},
            "planned_values": {"root_module": {}},
            "resource_changes": changes,
            "configuration": {"root_module": {}},
            "timestamp": "2026-11-30T10:00:00Z",
            "applyable": bool(changes),
            "complete": True,
            "errored": False,
        }
        saved = f"tfplan (emulated) {build.build_id}\n{json.dumps(changes, sort_keys=True)}".encode()
        backend = _s3(build)
        backend.put_object(bucket, f"{prefix}/tfplan", saved)
        backend.put_object(bucket, f"{prefix}/plan.json", json.dumps(document).encode())
        with self._lock:
            self.documents[hashlib.sha256(saved).hexdigest()] = document
        counts = {a: sum(c["change"]["actions"] == [a] for c in changes) for a in ("create", "update", "delete")}
        return (
            f"Plan: {counts['create']} to add, {counts['update']} to change, {counts['delete']} to destroy.\n"
            f"Saved the plan to: tfplan; uploaded to s3://{bucket}/{prefix}/\n"
        )

    def _apply(self, build: StartedBuild) -> str:
        bucket, prefix = build.variables["PLAN_BUCKET"], build.variables["PLAN_PREFIX"]
        version = build.variables["PLAN_VERSION_ID"]
        key = _s3(build).get_object(bucket, f"{prefix}/tfplan", version_id=None if version == "null" else version)
        if key is None:
            raise FileNotFoundError(f"s3://{bucket}/{prefix}/tfplan version {version}")
        sha256 = hashlib.sha256(key.value).hexdigest()
        if sha256 != build.variables["PLAN_SHA256"]:
            raise ValueError(f"tfplan: FAILED (sha256sum: {sha256}, expected {build.variables['PLAN_SHA256']})")
        with self._lock:
            document = self.documents.get(sha256, {})
            self.applied.append(AppliedPlan(build.build_id, f"{prefix}/tfplan", version, sha256, document))
        return f"tfplan: OK\nApply complete! Resources: {len(document.get('resource_changes', []))} changed.\n"


def _s3(build: StartedBuild) -> Any:
    """The emulated S3 of the build's account (the emulators run in moto's default account)."""
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


TERRAFORM = TerraformStandIn()
