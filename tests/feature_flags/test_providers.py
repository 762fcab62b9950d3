"""The flag providers at the wire: Doppler's API v3 and the admin API against their fakes on 127.0.0.1 (which check
method, path, query, bearer token and body as the services do), SSM against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
import urllib3
from moto import mock_aws

from functions.rollbacks.feature_flag.adapters import (
    FlagNotBoolean,
    FlagNotFound,
    FlagProviderRefused,
    ProviderUnavailable,
)
from functions.rollbacks.feature_flag.adapters.admin_api import AdminApiFlags
from functions.rollbacks.feature_flag.adapters.doppler import DopplerFlags
from functions.rollbacks.feature_flag.adapters.ssm import SsmFlags
from functions.transient import is_transient
from local.fakes.admin_flags import FakeAdminFlags
from local.fakes.doppler import FakeDoppler


@pytest.fixture
def doppler() -> Iterator[FakeDoppler]:
    with FakeDoppler(
        values={"FEATURE_SKILLPOD_ENABLED": "true", "MAINTENANCE_MODE": "false", "GREETING": "hi"}
    ) as fake:
        yield fake


def flags_of(fake: FakeDoppler, token: str | None = None, config: str = "prd") -> DopplerFlags:
    return DopplerFlags(fake.api_base, "skillancer", config, token or fake.token)


def test_doppler_reads_and_writes_a_flag_as_its_api_v3_expects(doppler: FakeDoppler) -> None:
    # Given the skillancer/prd config with the skillpod flag on
    flags = flags_of(doppler)
    assert flags.read("FEATURE_SKILLPOD_ENABLED") is True
    # When it is written off (conditional on it still being on)
    flags.write("FEATURE_SKILLPOD_ENABLED", False, expected=True)
    # Then the secret holds the text false, written once, and reads back so
    assert doppler.values["FEATURE_SKILLPOD_ENABLED"] == "false"
    assert doppler.writes == [("FEATURE_SKILLPOD_ENABLED", "false")]
    assert flags.read("FEATURE_SKILLPOD_ENABLED") is False


def test_doppler_refuses_a_write_whose_original_value_moved(doppler: FakeDoppler) -> None:
    # Given the flag was switched off by hand after it was read
    doppler.set("FEATURE_SKILLPOD_ENABLED", "false")
    # When it is written expecting it on, Doppler refuses the change request and nothing is written
    with pytest.raises(FlagProviderRefused, match="400"):
        flags_of(doppler).write("FEATURE_SKILLPOD_ENABLED", True, expected=True)
    assert doppler.writes == []


def test_doppler_errors_are_refusals_or_transient_as_the_status_says(doppler: FakeDoppler) -> None:
    # A wrong token is a 401 refusal; an unknown config a 404 (not a flag); unknown and non-boolean secrets refused
    with pytest.raises(FlagProviderRefused, match="401"):
        flags_of(doppler, token="dp.st.wrong").read("MAINTENANCE_MODE")
    with pytest.raises(FlagNotFound):
        flags_of(doppler, config="stg").read("MAINTENANCE_MODE")
    with pytest.raises(FlagNotFound):
        flags_of(doppler).read("FEATURE_UNKNOWN")
    with pytest.raises(FlagNotBoolean):
        flags_of(doppler).read("GREETING")
    # A 5xx that outlasts the client's own read retries is transient (the workflow retries the step)
    doppler.faults.fail_next(503, times=3)
    with pytest.raises(ProviderUnavailable) as raised:
        flags_of(doppler).read("MAINTENANCE_MODE")
    assert is_transient(raised.value)
    # One 5xx on a read is retried by the client and answered
    doppler.faults.fail_next(500)
    assert flags_of(doppler).read("MAINTENANCE_MODE") is False
    # A write is never retried by the client: a 500 reaches the step, and nothing was written
    doppler.faults.fail_next(500)
    with pytest.raises(ProviderUnavailable):
        flags_of(doppler).write("MAINTENANCE_MODE", True, expected=False)
    assert doppler.writes == []


def test_admin_api_reads_and_posts_flags_as_the_runbook_does() -> None:
    with FakeAdminFlags({"skillpod_enabled": True}) as admin:
        flags = AdminApiFlags(admin.base_url, admin.token)
        # When the flag is read and posted off
        assert flags.read("skillpod_enabled") is True
        flags.write("skillpod_enabled", False, expected=True)
        # Then the API got {"flag", "enabled": false} once, and reads it back off
        assert admin.writes == [("skillpod_enabled", False)] and flags.read("skillpod_enabled") is False
        # And a wrong token is refused, an unknown flag is not found
        with pytest.raises(FlagProviderRefused, match="401"):
            AdminApiFlags(admin.base_url, "wrong").read("skillpod_enabled")
        with pytest.raises(FlagNotFound):
            flags.read("new_matching")


def test_ssm_flags_are_parameters_under_the_prefix() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/skillancer/production/flags/MAINTENANCE_MODE", Value="false", Type="String")
        flags = SsmFlags(ssm, "/skillancer/production/flags/")
        assert flags.read("MAINTENANCE_MODE") is False
        flags.write("MAINTENANCE_MODE", True, expected=False)
        stored = ssm.get_parameter(Name="/skillancer/production/flags/MAINTENANCE_MODE")["Parameter"]
        assert (stored["Value"], stored["Version"]) == ("true", 2)
        with pytest.raises(FlagNotFound):
            flags.read("FEATURE_UNKNOWN")


def test_the_fakes_refuse_what_the_services_refuse(doppler: FakeDoppler) -> None:
    # The fakes are only worth what they check: requests the real services refuse are refused here too
    pool = urllib3.PoolManager()
    auth = {"Authorization": f"Bearer {doppler.token}", "Content-Type": "application/json"}

    def post(url: str, body: object, headers: dict[str, str]) -> int:
        return pool.request("POST", url, body=json.dumps(body).encode(), headers=headers).status

    secrets_url = doppler.api_base + "/v3/configs/config/secrets"
    both = {"project": "skillancer", "config": "prd", "secrets": {"A": "1"}, "change_requests": []}
    assert post(secrets_url, both, auth) == 400  # secrets or change_requests, never both
    assert post(secrets_url, {"project": "other", "config": "prd", "secrets": {"A": "1"}}, auth) == 404
    assert post(secrets_url, {"project": "skillancer", "config": "prd", "secrets": {"A": True}}, auth) == 400
    assert post(secrets_url, {"project": "skillancer", "config": "prd", "secrets": {"A": "1"}}, {}) == 401
    read = pool.request(
        "GET", doppler.api_base + "/v3/configs/config/secret?project=skillancer&config=prd", headers=auth
    )
    assert read.status == 400  # no name
    assert doppler.writes == []
    with FakeAdminFlags({"skillpod_enabled": True}) as admin:
        bearer = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
        flags_url = admin.base_url + "/admin/flags"
        assert post(flags_url, {"flag": "skillpod_enabled", "enabled": "false"}, bearer) == 400
        assert post(flags_url, {"flag": "skillpod_enabled", "enabled": False, "extra": 1}, bearer) == 400
        assert post(flags_url, {"flag": "new_matching", "enabled": False}, bearer) == 404
        assert admin.writes == [] and admin.flags == {"skillpod_enabled": True}
