"""Rollback locks in DynamoDB: one item per locked key, all of a rollback's keys taken in one transaction.

A rollback locks its service in its environment and every resource its plan changes, so two rollbacks can
touch the same resource neither at once nor under different service names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from functions.errors import RollbackLocked
from functions.models.rollback import LockLease

MAX_KEYS = 100  # DynamoDB's TransactWriteItems limit
LOCK_ACQUIRED = "lock acquired"  # the audit event that lists a rollback's keys (for the clean-up after an abort)


class DynamoDBLockStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def acquire(self, keys: Sequence[str], owner: str, now: datetime, ttl: timedelta) -> LockLease:
        """Take every key, or none: refused if another owner holds an unexpired one. Re-acquiring one's own
        keys is a no-op (safe to retry)."""
        wanted = sorted(set(keys))
        if not wanted or len(wanted) > MAX_KEYS:
            raise ValueError(f"a rollback locks between 1 and {MAX_KEYS} keys, not {len(wanted)}")
        expires_at = now + ttl
        puts = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "lock_key": {"S": key},
                        "owner": {"S": owner},
                        "acquired_at": {"S": now.isoformat()},
                        "expires_at": {"N": str(int(expires_at.timestamp()))},
                    },
                    "ConditionExpression": "attribute_not_exists(lock_key) OR #owner = :owner OR expires_at < :now",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {":owner": {"S": owner}, ":now": {"N": str(int(now.timestamp()))}},
                }
            }
            for key in wanted
        ]
        try:
            self._dynamodb.transact_write_items(TransactItems=puts)
        except self._dynamodb.exceptions.TransactionCanceledException:
            held = {key: self.holder(key) for key in wanted}
            taken = {key: holder for key, holder in held.items() if holder and holder != owner}
            described = "; ".join(f"{key.replace('#', ' in ')} (held by {holder})" for key, holder in taken.items())
            raise RollbackLocked(f"another rollback is in progress on {described or ', '.join(wanted)}") from None
        return LockLease(keys=wanted, owner=owner, acquired_at=now, expires_at=expires_at)

    def holder(self, key: str) -> str | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"lock_key": {"S": key}}, ConsistentRead=True)
        owner = item.get("Item", {}).get("owner", {}).get("S")
        return str(owner) if owner else None

    def release(self, keys: Sequence[str], owner: str) -> list[str]:
        """Release the keys ``owner`` still holds (one taken over after expiry stays with its new owner); returns
        the keys released. Safe to retry."""
        released = []
        for key in keys:
            try:
                self._dynamodb.delete_item(
                    TableName=self._table,
                    Key={"lock_key": {"S": key}},
                    ConditionExpression="#owner = :owner",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={":owner": {"S": owner}},
                )
                released.append(key)
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                continue
        return released
