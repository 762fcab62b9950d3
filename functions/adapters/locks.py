"""Rollback locks: one rollback per service and environment, held in DynamoDB with a conditional write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.errors import RollbackLocked
from functions.models.rollback import LockLease


class DynamoDBLockStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def acquire(self, key: str, owner: str, now: datetime, ttl: timedelta) -> LockLease:
        """Take the lock unless another owner holds an unexpired one. Re-acquiring one's own lock is a no-op."""
        expires_at = now + ttl
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "lock_key": {"S": key},
                    "owner": {"S": owner},
                    "acquired_at": {"S": now.isoformat()},
                    "expires_at": {"N": str(int(expires_at.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(lock_key) OR #owner = :owner OR expires_at < :now",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}, ":now": {"N": str(int(now.timestamp()))}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            holder = self.holder(key)
            raise RollbackLocked(
                f"another rollback of {key.replace('#', ' in ')} is in progress (held by {holder or 'unknown'})"
            ) from None
        return LockLease(key=key, owner=owner, acquired_at=now, expires_at=expires_at)

    def holder(self, key: str) -> str | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"lock_key": {"S": key}}, ConsistentRead=True)
        owner = item.get("Item", {}).get("owner", {}).get("S")
        return str(owner) if owner else None

    def release(self, key: str, owner: str) -> bool:
        """Release the lock if ``owner`` holds it; returns whether anything was released."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"lock_key": {"S": key}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
