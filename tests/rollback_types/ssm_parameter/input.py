"""The ``target`` of an ``ssm_parameter`` rollback."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SsmParameterTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    names: list[str] = Field(
        min_length=1, max_length=10, description="Parameters to restore.", json_schema_extra={"cli_option": "--name"}
    )
    to_version: int | None = Field(default=None, ge=1, description="Version to restore; default: the previous one.")
