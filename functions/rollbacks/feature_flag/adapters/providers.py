"""The configured provider of a service's flags in an environment, with its token read from Secrets Manager."""

from __future__ import annotations

from typing import Any

from functions.rollbacks.feature_flag.adapters import FlagProvider
from functions.rollbacks.feature_flag.adapters.admin_api import AdminApiFlags
from functions.rollbacks.feature_flag.adapters.doppler import DopplerFlags
from functions.rollbacks.feature_flag.adapters.ssm import SsmFlags
from functions.rollbacks.feature_flag.config import AdminApiProvider, DopplerProvider, SsmProvider


def flag_provider(config: DopplerProvider | AdminApiProvider | SsmProvider, secrets: Any, ssm: Any) -> FlagProvider:
    if isinstance(config, SsmProvider):
        return SsmFlags(ssm, config.parameter_prefix)
    token = str(secrets.get_secret_value(SecretId=config.token_secret_name)["SecretString"]).strip()
    if isinstance(config, DopplerProvider):
        return DopplerFlags(str(config.api_base), config.project, config.config, token)
    return AdminApiFlags(str(config.base_url), token)


def describe(provider: FlagProvider) -> str:
    kind, _, where = provider.location.partition(":")
    return {"doppler": "Doppler", "admin-api": "admin API", "ssm": "SSM"}.get(kind, kind) + f" {where}"
