"""Where the applications read their database URL: a Secrets Manager secret (the whole secret, or one key of a
JSON secret such as ``DATABASE_URL``) or an SSM parameter. Switching writes a **new version**; the previous one is
kept (``AWSPREVIOUS``, or the parameter's history), so the switch itself can be undone."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.errors import InvalidRollbackInput, RollbackError


class ConnectionLocation(BaseModel):
    """Where one database's URL lives (``rollback.types.<type>.instances.<id>.connection`` in ``cdk.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: Literal["secretsmanager", "ssm"]
    name: str = Field(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9/_+=.@-]+$")
    json_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="A JSON secret's key holding the URL (e.g. DATABASE_URL); unset: the whole secret is the URL.",
    )

    @property
    def lock_key(self) -> str:
        return f"{self.store}:{self.name}"

    def describe(self) -> str:
        key = f"{self.json_key} in " if self.json_key else ""
        where = "secret" if self.store == "secretsmanager" else "SSM parameter"
        return f"{key}{where} {self.name}"


class ConnectionChanged(RollbackError):
    """The connection setting has a newer version than the one approvers saw."""


@dataclass(frozen=True)
class ConnectionValue:
    url: str
    version: str


class ConnectionStore:
    """Reads and switches the URL at one :class:`ConnectionLocation`."""

    def __init__(self, location: ConnectionLocation, client: Any) -> None:
        self.location = location
        self._client = client

    def read(self) -> ConnectionValue:
        if self.location.store == "ssm":
            parameter = self._client.get_parameter(Name=self.location.name, WithDecryption=True)["Parameter"]
            return ConnectionValue(url=parameter["Value"], version=str(parameter["Version"]))
        secret = self._client.get_secret_value(SecretId=self.location.name)
        return ConnectionValue(url=self._url_in(secret["SecretString"]), version=secret["VersionId"])

    def switch(self, url: str, *, approved_version: str, request_token: str) -> ConnectionValue:
        """Writes ``url`` as a new version, unless the setting moved since it was approved. ``request_token``
        makes the write happen once however often it is retried (Secrets Manager's idempotency token; for SSM the
        value already being ``url`` counts as done)."""
        current = self.read()
        token = str(uuid.uuid5(uuid.NAMESPACE_URL, request_token))
        if current.version != approved_version and current.version != token:
            if current.url == url:
                return current  # this switch, already written (SSM numbers its versions itself)
            raise ConnectionChanged(
                f"{self.location.describe()} is at version {current.version}; approvers saw version {approved_version}"
            )
        if current.url == url:
            return current
        if self.location.store == "ssm":
            version = self._client.put_parameter(
                Name=self.location.name, Value=url, Overwrite=True, Type=self._ssm_type()
            )["Version"]
            return ConnectionValue(url=url, version=str(version))
        secret = self._client.get_secret_value(SecretId=self.location.name)["SecretString"]
        written = self._client.put_secret_value(
            SecretId=self.location.name, SecretString=self._with_url(secret, url), ClientRequestToken=token
        )
        return ConnectionValue(url=url, version=written["VersionId"])

    def revert_command(self, approved_version: str) -> str:
        """How to put the approved version back by hand."""
        if self.location.store == "ssm":
            return (
                f"aws ssm get-parameter --name {self.location.name}:{approved_version} --with-decryption, then "
                f"aws ssm put-parameter --name {self.location.name} --overwrite --value <that value>"
            )
        return (
            f"aws secretsmanager update-secret-version-stage --secret-id {self.location.name} "
            f"--version-stage AWSCURRENT --move-to-version-id {approved_version} --remove-from-version-id <new version>"
        )

    def _ssm_type(self) -> str:
        return str(self._client.get_parameter(Name=self.location.name)["Parameter"]["Type"])

    def _url_in(self, secret: str) -> str:
        if self.location.json_key is None:
            return secret
        try:
            value = json.loads(secret)[self.location.json_key]
        except (ValueError, KeyError, TypeError):
            raise InvalidRollbackInput(f"{self.location.describe()}: no such key in the secret") from None
        if not isinstance(value, str):
            raise InvalidRollbackInput(f"{self.location.describe()}: the value is not text")
        return value

    def _with_url(self, secret: str, url: str) -> str:
        if self.location.json_key is None:
            return url
        document = json.loads(secret)
        document[self.location.json_key] = url
        return json.dumps(document)
