"""Deployment configuration of ``feature_flag`` (``rollback.types.feature_flag`` in ``cdk.json``): which provider
holds the flags of each service in each environment, and how to reach it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from functions.errors import InvalidRollbackInput
from functions.models.rollback import NAME_PATTERN
from functions.rollbacks.contract import Permission, TypeConfig
from functions.settings import FunctionSettings

SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]


class DopplerProvider(BaseModel):
    """Flags are secrets of a Doppler config (``doppler secrets set FLAG=false``), through Doppler's REST API v3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["doppler"]
    project: str = Field(min_length=1, max_length=64, description="Doppler project, e.g. skillancer.")
    config: str = Field(min_length=1, max_length=64, description="Doppler config, e.g. prd.")
    token_secret_name: SecretName = Field(description="Secrets Manager secret holding a read/write service token.")
    api_base: HttpUrl = Field(default=HttpUrl("https://api.doppler.com"), description="Doppler's API.")


class AdminApiProvider(BaseModel):
    """Flags behind the product's admin API: ``POST {base_url}/admin/flags`` with a bearer token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["admin_api"]
    base_url: HttpUrl = Field(description="The product's API, e.g. https://api.skillancer.com.")
    token_secret_name: SecretName = Field(description="Secrets Manager secret holding the admin bearer token.")


class SsmProvider(BaseModel):
    """Flags are SSM parameters ``<parameter_prefix><FLAG>`` holding ``true`` or ``false``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["ssm"]
    parameter_prefix: str = Field(
        pattern=r"^/[A-Za-z0-9_./-]*/$", max_length=900, description="e.g. /skillancer/production/flags/"
    )


Provider = Annotated[DopplerProvider | AdminApiProvider | SsmProvider, Field(discriminator="kind")]


class FlagProviderBinding(BaseModel):
    """Where the flags of one service in one environment live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(pattern=NAME_PATTERN, max_length=63)
    environment: str = Field(pattern=NAME_PATTERN, max_length=63)
    provider: Provider


def _secret(name: str) -> str:
    return f"secret:{name}-??????"  # Secrets Manager appends six random characters to a secret's ARN


class FeatureFlagConfig(TypeConfig):
    providers: list[FlagProviderBinding] = Field(min_length=1, max_length=50)

    def environment(self) -> Mapping[str, str]:
        return FeatureFlagSettings(feature_flag_providers=self.providers).as_environment()

    def permissions(self, function: str) -> Sequence[Permission]:
        """Every function reads and (for the ones that change flags) writes the configured flags only: the token
        secrets, and the SSM parameters under the configured prefixes."""
        secrets = sorted(
            {_secret(b.provider.token_secret_name) for b in self.providers if not isinstance(b.provider, SsmProvider)}
        )
        prefixes = sorted({b.provider.parameter_prefix for b in self.providers if isinstance(b.provider, SsmProvider)})
        found = [Permission(("secretsmanager:GetSecretValue",), "secretsmanager", tuple(secrets))] if secrets else []
        if prefixes:
            writes = function in ("SetFlag", "PutFlagsBack")
            found.append(
                Permission(
                    ("ssm:GetParameter", "ssm:PutParameter") if writes else ("ssm:GetParameter",),
                    "ssm",
                    tuple(f"parameter{prefix}*" for prefix in prefixes),
                    reason="the flags are the parameters under the configured prefix",
                )
            )
        return found


class FeatureFlagSettings(FunctionSettings):
    """Runtime settings of the ``feature_flag`` functions."""

    feature_flag_providers: list[FlagProviderBinding] = Field(min_length=1)

    def provider_for(self, service: str, environment: str) -> DopplerProvider | AdminApiProvider | SsmProvider:
        for binding in self.feature_flag_providers:
            if (binding.service, binding.environment) == (service, environment):
                return binding.provider
        configured = ", ".join(f"{b.service}/{b.environment}" for b in self.feature_flag_providers)
        raise InvalidRollbackInput(
            f"service: no feature-flag provider is configured for {service} in {environment} (configured: {configured})"
        )
