"""Audit trail: every step worth remembering, keyed by rollback id, in time order. Append-only: an item is only
ever added (a conditional put), never changed or removed."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any


class AuditLog:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def record(self, rollback_id: str, event: str, at: datetime, detail: dict[str, Any] | None = None) -> None:
        self._put(rollback_id, f"{at.isoformat()}#{uuid.uuid4().hex[:8]}", event, at, detail)

    def record_once(
        self, rollback_id: str, once_key: str, event: str, at: datetime, detail: dict[str, Any] | None = None
    ) -> bool:
        """Record ``event`` under a key of its own unless it is there already: True for the first caller only.
        A step that must not repeat a side effect when it is run again claims it here first."""
        try:
            self._put(rollback_id, f"once#{once_key}", event, at, detail)
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _put(self, rollback_id: str, event_key: str, event: str, at: datetime, detail: dict[str, Any] | None) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "rollback_id": {"S": rollback_id},
                "event_key": {"S": event_key},
                "event": {"S": event},
                "at": {"S": at.isoformat()},
                "detail": {"S": json.dumps(detail or {}, default=str, sort_keys=True)},
            },
            ConditionExpression="attribute_not_exists(event_key)",
        )

    def events(self, rollback_id: str) -> list[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("query")
        items: list[dict[str, Any]] = []
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="rollback_id = :id",
            ExpressionAttributeValues={":id": {"S": rollback_id}},
        ):
            for item in page["Items"]:
                items.append(
                    {
                        "event": item["event"]["S"],
                        "at": item["at"]["S"],
                        "detail": json.loads(item["detail"]["S"]),
                    }
                )
        return items
