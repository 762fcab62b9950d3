"""What a ``feature_flag`` rollback targets: flags to set, each to on or off.

A flag is ``{"name": ..., "enabled": true|false}``, a boolean and not a free string: the runbook's flags are all
switches (``FEATURE_SKILLPOD_ENABLED=false``, ``MAINTENANCE_MODE=true``), the admin API takes a boolean, and Doppler
and SSM hold the text ``true`` / ``false``, which each provider writes and reads back exactly. A flag whose stored
value is anything else is refused at the pre-checks, so the value recorded as "before" is always one the revert can
write back exactly. On the command line a flag is also accepted as ``NAME=true`` / ``NAME=false`` (the published
schema says so too).
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FLAG_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$"
ASSIGNMENT = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]{0,127})=(true|false)$")


class FlagSetting(BaseModel):
    """One flag and the state it must be in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=FLAG_NAME_PATTERN, description="The flag, as its provider names it.")
    enabled: bool = Field(description="The state to set it to.")

    @property
    def text(self) -> str:
        return "true" if self.enabled else "false"


FlagAssignment = Annotated[str, Field(pattern=ASSIGNMENT.pattern, description="NAME=true or NAME=false")]


class FeatureFlagTarget(BaseModel):
    """The ``target`` of a ``feature_flag`` rollback (runbook procedure 3: flip the flags)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flags: list[FlagSetting | FlagAssignment] = Field(
        min_length=1,
        max_length=20,
        description="Flags to set, in order: {name, enabled}, or NAME=true / NAME=false.",
        json_schema_extra={"cli_option": "--flag"},
    )

    @field_validator("flags", mode="after")
    @classmethod
    def _as_settings(cls, flags: list[FlagSetting | str]) -> list[FlagSetting | str]:
        settings: list[FlagSetting | str] = []
        for flag in flags:
            if isinstance(flag, str):
                match = ASSIGNMENT.match(flag)
                assert match is not None  # the pattern above
                flag = FlagSetting(name=match.group(1), enabled=match.group(2) == "true")
            settings.append(flag)
        return settings

    @model_validator(mode="after")
    def _names_unique(self) -> Self:
        names = [flag.name for flag in self.settings()]
        if len(set(names)) != len(names):
            raise ValueError("flags: each flag may appear only once")
        return self

    def settings(self) -> list[FlagSetting]:
        return [flag for flag in self.flags if isinstance(flag, FlagSetting)]
