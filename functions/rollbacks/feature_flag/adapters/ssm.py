"""Flags as SSM parameters ``<prefix><FLAG>`` holding ``true`` or ``false`` (String)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.rollbacks.feature_flag.adapters import FlagNotFound, as_text, from_text


@dataclass(frozen=True)
class SsmFlags:
    client: Any
    prefix: str

    @property
    def location(self) -> str:
        return f"ssm:{self.prefix}"

    def read(self, name: str) -> bool:
        try:
            parameter = self.client.get_parameter(Name=self.prefix + name)["Parameter"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise FlagNotFound(f"target.flags: no SSM parameter {self.prefix}{name}") from None
            raise
        return from_text(name, parameter["Value"], f"SSM {self.prefix}")

    def write(self, name: str, enabled: bool, *, expected: bool) -> None:
        self.client.put_parameter(Name=self.prefix + name, Value=as_text(enabled), Type="String", Overwrite=True)
