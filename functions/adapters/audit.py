"""Audit trail: every step worth remembering, keyed by rollback id, in time order."""

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
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "rollback_id": {"S": rollback_id},
                "event_key": {"S": f"{at.isoformat()}#{uuid.uuid4().hex[:8]}"},
                "event": {"S": event},
                "at": {"S": at.isoformat()},
                "detail": {"S": json.dumps(detail or {}, default=str, sort_keys=True)},
            },
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
