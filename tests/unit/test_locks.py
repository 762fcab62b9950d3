"""The rollback lock, on moto's DynamoDB (real conditional-write semantics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.locks import DynamoDBLockStore
from functions.errors import RollbackLocked

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
TTL = timedelta(hours=1)


@pytest.fixture
def store() -> Iterator[DynamoDBLockStore]:
    with mock_aws():
        dynamodb: Any = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="locks",
            KeySchema=[{"AttributeName": "lock_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "lock_key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoDBLockStore(dynamodb, "locks")


SERVICE = "skillancer#production"
WEB = "kubernetes:prod/production/deployment/skillancer-web"
API = "kubernetes:prod/production/deployment/skillancer-api"


def test_second_rollback_of_the_same_service_is_refused_naming_the_holder(store: DynamoDBLockStore) -> None:
    store.acquire([SERVICE, WEB], "exec-1", NOW, TTL)
    with pytest.raises(RollbackLocked, match="skillancer in production \\(held by exec-1\\)"):
        store.acquire([SERVICE, API], "exec-2", NOW, TTL)


def test_the_same_resource_under_another_service_name_is_refused_and_nothing_is_taken(
    store: DynamoDBLockStore,
) -> None:
    # Given one rollback holds skillancer-web
    store.acquire([SERVICE, WEB], "exec-1", NOW, TTL)
    # When another names a different service but the same deployment (and one more)
    with pytest.raises(RollbackLocked, match=f"{WEB} \\(held by exec-1\\)"):
        store.acquire(["checkout#production", WEB, API], "exec-2", NOW, TTL)
    # Then it took none of its keys
    assert store.holder("checkout#production") is None and store.holder(API) is None


def test_other_environment_is_independent(store: DynamoDBLockStore) -> None:
    store.acquire([SERVICE], "exec-1", NOW, TTL)
    assert store.acquire(["skillancer#staging"], "exec-2", NOW, TTL).owner == "exec-2"


def test_reacquiring_ones_own_lock_is_idempotent(store: DynamoDBLockStore) -> None:
    store.acquire([SERVICE, WEB], "exec-1", NOW, TTL)
    assert store.acquire([WEB, SERVICE], "exec-1", NOW, TTL).keys == sorted([SERVICE, WEB])


def test_expired_lock_can_be_taken_over(store: DynamoDBLockStore) -> None:
    store.acquire([SERVICE], "exec-1", NOW, TTL)
    assert store.acquire([SERVICE], "exec-2", NOW + TTL + timedelta(seconds=1), TTL).owner == "exec-2"


def test_only_the_owner_releases_and_releasing_twice_is_harmless(store: DynamoDBLockStore) -> None:
    store.acquire([SERVICE, WEB], "exec-1", NOW, TTL)
    assert store.release([SERVICE, WEB], "exec-2") == []
    assert store.holder(SERVICE) == "exec-1"
    assert store.release([SERVICE, WEB], "exec-1") == [SERVICE, WEB]
    assert store.holder(SERVICE) is None and store.holder(WEB) is None
    assert store.release([SERVICE, WEB], "exec-1") == []
