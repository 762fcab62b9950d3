"""What a ``database_snapshot`` rollback targets: an RDS instance, and the snapshot to restore."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.capabilities.databases.restore_config import InstanceId
from functions.models.rollback import Timestamp


class DatabaseSnapshotTarget(BaseModel):
    """The ``target`` of a ``database_snapshot`` rollback (runbook procedure 2c: restore from a backup)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"not": {"required": ["snapshot_id", "taken_before"]}}
    )

    source_instance: InstanceId = Field(
        description="RDS instance whose snapshot is restored (it keeps running, untouched), e.g. skillancer-prod.",
        json_schema_extra={"cli_option": "--instance"},
    )
    snapshot_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        pattern=r"^[a-zA-Z][a-zA-Z0-9:-]*$",
        description="Restore this snapshot (automated or manual); default: the newest taken before taken_before.",
        json_schema_extra={"cli_option": "--snapshot"},
    )
    taken_before: Timestamp | None = Field(
        default=None,
        description="Pick the newest available snapshot taken before this time; default: the incident's detection.",
    )
