"""What a ``database_pitr`` rollback targets: an RDS instance, and the moment to restore it to."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from functions.capabilities.databases.restore_config import InstanceId
from functions.models.rollback import Timestamp


class DatabasePitrTarget(BaseModel):
    """The ``target`` of a ``database_pitr`` rollback (runbook procedure 2b: point-in-time recovery)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"not": {"required": ["restore_time", "margin_seconds"]}}
    )

    source_instance: InstanceId = Field(
        description="RDS instance to restore (it keeps running, untouched), e.g. skillancer-prod.",
        json_schema_extra={"cli_option": "--instance"},
    )
    restore_time: Timestamp | None = Field(
        default=None,
        description="Restore the data as it was at this time; default: the incident's detection minus margin_seconds.",
    )
    margin_seconds: int | None = Field(
        default=None,
        ge=0,
        le=86400,
        description="Without restore_time: restore to this long before the incident was detected (default 60).",
    )

    def restore_point(self, detected_at: datetime) -> datetime:
        if self.restore_time is not None:
            return self.restore_time
        return detected_at - timedelta(seconds=60 if self.margin_seconds is None else self.margin_seconds)
