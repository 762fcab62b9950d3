"""Function settings: read from the environment once per cold start, refused with the variable named."""

from __future__ import annotations

import json

import pytest

from functions.capabilities.kubernetes.settings import ClusterSettings
from functions.settings import (
    ApprovalSettings,
    EnvironmentVariables,
    FunctionSettings,
    LockSettings,
    SettingsError,
    ValidationSettings,
    load_settings,
)

APPROVERS = [{"id": "ann", "name": "Ann", "email": "ann@example.com", "roles": ["on-call"]}]


def test_settings_come_from_the_named_variables_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a function environment as the stack sets it (an empty variable counts as unset)
    monkeypatch.setenv("LOCKS_TABLE_NAME", "locks")
    monkeypatch.setenv("AUDIT_TABLE_NAME", "audit")
    monkeypatch.setenv("LOCK_TTL_SECONDS", "")
    # When its settings are loaded, Then each field has its variable, or its default
    expected = LockSettings(locks_table_name="locks", audit_table_name="audit", lock_ttl_seconds=3600)
    assert load_settings(LockSettings) == expected


def test_a_missing_or_malformed_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVERS", json.dumps([{"id": "ann"}]))
    monkeypatch.delenv("APPROVAL_SIGNING_SECRET_ARN", raising=False)
    with pytest.raises(SettingsError) as error:
        load_settings(ApprovalSettings)
    assert "APPROVAL_SIGNING_SECRET_ARN: Field required" in str(error.value)
    assert "APPROVERS: " in str(error.value)


def test_settings_are_read_once_per_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVERS", json.dumps(APPROVERS))
    first = load_settings(ValidationSettings)
    assert load_settings(ValidationSettings) is first
    # another function's environment (the emulators run several in one process) is read anew
    monkeypatch.setenv("ESCALATION_ROLES", '["cto", "security"]')
    again = load_settings(ValidationSettings)
    assert again is not first and again.approval_window()["escalation_roles"] == ["cto", "security"]


def test_the_environment_a_slice_deploys_loads_the_same_settings() -> None:
    settings = ClusterSettings(cluster_name="prod", cluster_endpoint="https://k8s", rollout_timeout_seconds=60)
    environment = settings.as_environment()
    assert environment == {"CLUSTER_NAME": "prod", "CLUSTER_ENDPOINT": "https://k8s", "ROLLOUT_TIMEOUT_SECONDS": "60"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        assert load_settings(ClusterSettings) == settings


def test_every_spine_variable_is_one_the_stack_knows() -> None:
    spine = [c for c in FunctionSettings.__subclasses__() if c.__module__ == "functions.settings"]
    assert len(spine) >= 8
    known = {v.value for v in EnvironmentVariables}
    for settings in spine:
        assert set(settings.variables().values()) <= known, settings.__name__
