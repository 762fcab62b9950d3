"""What a rollback type is: the one description that CDK, input validation, the JSON Schemas, the CLI and the
drill read (through :mod:`functions.rollbacks.registry`).

A type is a slice, ``functions/rollbacks/<type>/``: its ``target`` model, its pre-checks (a function named
``Plan`` that returns a :class:`~functions.models.rollback.RollbackPlan`), its execute and check steps (which
report :class:`~functions.models.rollback.ChangeRecord` items), its adapters; plus its ASL part,
``state_machines/<type>.asl.json``, which the spine runs between the approval and the verification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from functions.models.rollback import ChangeRecord, RollbackEnvelope

STATE_MACHINES_DIR = Path(__file__).resolve().parents[2] / "state_machines"
PLAN_FUNCTION = "Plan"


@dataclass(frozen=True)
class Permission:
    """What one of a type's functions may do beyond the spine's grants: ``actions`` on the resources named
    ``<service>:<region>:<account>:<resource>`` (one ARN each, in the stack's partition, region and account), e.g.
    ``Permission(("rds:DescribeDBInstances",), "rds", ("db:skillancer-prod",))``. A name may end in ``*``."""

    actions: tuple[str, ...]
    service: str
    resources: tuple[str, ...]
    reason: str = ""  # why a resource pattern needs a wildcard (shown in the infrastructure checks)
    # ARNs without a region (CloudFront: "account") or without region and account (Route 53, S3: "global");
    # "unscoped": actions IAM cannot scope to a resource (ecs:ListTaskDefinitions), granted on "*" with the reason
    scope: Literal["regional", "account", "global", "unscoped"] = "regional"


class NetworkPlacement(BaseModel):
    """Subnets and security groups a type's function runs in, to reach what is only reachable inside a VPC (a
    database, a cluster's private endpoint). The subnets need a route to the AWS APIs the function calls (a NAT
    gateway or VPC endpoints)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subnet_ids: list[str] = Field(min_length=1, max_length=16, json_schema_extra={"items": {"pattern": "^subnet-"}})
    security_group_ids: list[str] = Field(min_length=1, max_length=5)


@dataclass(frozen=True)
class ClusterAccess:
    """What one of a type's functions may do in a Kubernetes cluster: the stack gives its role an EKS access entry
    on ``cluster_name``. A reader gets the view policy, scoped to ``namespaces``; a function that ``patches``
    Deployments gets the Kubernetes group that the namespaced Role of ``deploy/kubernetes-rbac.yaml`` binds
    (read Deployments, ReplicaSets and Pods; patch Deployments) instead of the broad edit policy."""

    cluster_name: str
    namespaces: tuple[str, ...]
    patches: bool = False
    in_stack: bool = True  # False: the cluster's administrators create the entry, for the role ARN the stack outputs


class TypeConfig(BaseModel):
    """A type's section of the deployment configuration (``rollback.types.<type>`` in ``cdk.json``)."""

    model_config = ConfigDict(extra="forbid")

    def environment(self) -> Mapping[str, str]:
        """The environment of the type's functions."""
        return {}

    def permissions(self, function: str) -> Sequence[Permission]:
        """What the type's function named ``function`` may do on AWS besides the spine's grants (least privilege:
        the resources this configuration names)."""
        return ()

    def network_placement(self, function: str) -> NetworkPlacement | None:
        """Where the type's function named ``function`` must run to reach its targets; ``None``: no VPC."""
        return None

    def cluster_access(self, function: str) -> ClusterAccess | None:
        """What the type's function named ``function`` may do in a Kubernetes cluster; ``None``: it talks to none."""
        return None

    def own_states_seconds(self) -> int:
        """How long the type's own states may take (a restore takes longer than a rollout): added to the
        execution's time limit, and the locks outlive it."""
        return 0


class NothingToRevert(ValueError):
    """The rollback changed nothing a revert could put back (every change skipped, or put back already)."""


def revert_text(rollback_id: str, by_hand: str) -> str:
    """How a report says to undo a change: ``rollback revert`` (a rollback of its own, approved like any), or the
    exact commands ``by_hand``."""
    return f"rollback revert {rollback_id}; by hand: {by_hand}"


RevertTarget = Callable[[Sequence[ChangeRecord]], dict[str, Any]]
"""The ``target`` of the rollback that puts back what a succeeded rollback's change records say it changed, each to
its recorded "before" (``rollback revert``). Raises :class:`NothingToRevert`."""


@dataclass(frozen=True)
class SliceFunction:
    """One Lambda function of a slice; the ASL names it ``${<name>FunctionArn}``."""

    name: str
    handler: str
    description: str
    memory_size: int = 256
    timeout_seconds: int = 30
    changes_the_world: bool = False  # carries out approved changes: may read the approval record, nothing else


@dataclass(frozen=True)
class RollbackType:
    name: str
    title: str
    target_model: type[BaseModel]
    functions: tuple[SliceFunction, ...]
    config_model: type[TypeConfig] = TypeConfig
    definitions_dir: Path = STATE_MACHINES_DIR  # where <name>.asl.json and <name>.input.schema.json live
    part: str | None = None  # the ASL part's name when types share one (<part>.asl.json); default: the type's name
    revert: RevertTarget | None = None  # how ``rollback revert`` undoes one of its rollbacks; None: it is not offered

    def __post_init__(self) -> None:
        names = [function.name for function in self.functions]
        if PLAN_FUNCTION not in names:
            raise ValueError(f"rollback type {self.name}: a function named {PLAN_FUNCTION!r} runs its pre-checks")
        if len(set(names)) != len(names):
            raise ValueError(f"rollback type {self.name}: function names must be unique")

    @property
    def construct_id(self) -> str:
        """``kubernetes_app`` -> ``KubernetesApp``."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def state_machine_suffix(self) -> str:
        """``kubernetes_app`` -> ``kubernetes-app`` (deployed as ``<stack>-kubernetes-app``)."""
        return self.name.replace("_", "-")

    @property
    def asl_part(self) -> Path:
        return self.definitions_dir / f"{self.part or self.name}.asl.json"

    @property
    def input_schema_path(self) -> Path:
        return self.definitions_dir / f"{self.name}.input.schema.json"

    @cached_property
    def input_model(self) -> type[RollbackEnvelope]:
        """The workflow's input: the shared envelope, ``rollback_type`` (this type) and the type's ``target``."""
        tag: Any = Literal[self.name]
        model: type[RollbackEnvelope] = create_model(
            f"{self.construct_id}RollbackInput",
            __base__=RollbackEnvelope,
            __doc__=f"Input of the ``{self.name}`` workflow: {self.title}.",
            rollback_type=(tag, Field(default=self.name, description="The rollback type; this workflow's own.")),
            target=(self.target_model, Field(description="What to roll back, and to what.")),
        )
        return model

    def parse_input(self, raw: dict[str, Any]) -> RollbackEnvelope:
        """``raw`` (a decoded JSON object) as this type's input, exactly as the published JSON Schema reads it:
        strict types (no ``"1"`` for an integer, no ``true`` for a number, no epoch for a time). Raises
        ``pydantic.ValidationError``."""
        return self.input_model.model_validate_json(json.dumps(raw), strict=True)
