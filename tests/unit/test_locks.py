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


def test_second_rollback_of_the_same_service_is_refused_naming_the_holder(store: DynamoDBLockStore) -> None:
    store.acquire("skillancer#production", "exec-1", NOW, TTL)
    with pytest.raises(RollbackLocked, match="skillancer in production is in progress \\(held by exec-1\\)"):
        store.acquire("skillancer#production", "exec-2", NOW, TTL)


def test_other_environment_is_independent(store: DynamoDBLockStore) -> None:
    store.acquire("skillancer#production", "exec-1", NOW, TTL)
    assert store.acquire("skillancer#staging", "exec-2", NOW, TTL).owner == "exec-2"


def test_reacquiring_ones_own_lock_is_idempotent(store: DynamoDBLockStore) -> None:
    store.acquire("skillancer#production", "exec-1", NOW, TTL)
    assert store.acquire("skillancer#production", "exec-1", NOW, TTL).owner == "exec-1"


def test_expired_lock_can_be_taken_over(store: DynamoDBLockStore) -> None:
    store.acquire("skillancer#production", "exec-1", NOW, TTL)
    assert store.acquire("skillancer#production", "exec-2", NOW + TTL + timedelta(seconds=1), TTL).owner == "exec-2"


def test_only_the_owner_releases(store: DynamoDBLockStore) -> None:
    store.acquire("skillancer#production", "exec-1", NOW, TTL)
    assert store.release("skillancer#production", "exec-2") is False
    assert store.holder("skillancer#production") == "exec-1"
    assert store.release("skillancer#production", "exec-1") is True
    assert store.holder("skillancer#production") is None
    assert store.release("skillancer#production", "exec-1") is False
