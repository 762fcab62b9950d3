"""Approval requests in DynamoDB. The task token lives only here (encrypted table), never in links or logs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

ApprovalStatus = Literal["PENDING", "APPROVED", "REJECTED", "EXPIRED", "ENDED"]


class StoredDecision(BaseModel):
    approver_id: str
    decision: Literal["approve", "reject"]
    decided_at: datetime
    source_ip: str | None = None
    user_agent: str | None = None
    comment: str | None = None


class EmailDelivery(BaseModel):
    """What became of one email of a request (an approver's link, an escalation): sent once, or refused for good."""

    status: Literal["sent", "rejected"]
    at: datetime
    message_id: str | None = None
    error: str | None = None


class ApprovalRequestRecord(BaseModel):
    approval_id: str
    rollback_id: str
    status: ApprovalStatus
    task_token: str
    requested_by: str
    required_roles: list[str]
    nonces: dict[str, str]  # approver id -> nonce of that approver's link
    summary: dict[str, Any]  # what will change, as shown to approvers
    created_at: datetime
    expires_at: int
    decisions: dict[str, StoredDecision] = {}
    emails: dict[str, EmailDelivery] = {}  # "request:<approver id>" / "escalation:<approver id>" -> what became of it


class ApprovalStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def create(self, record: ApprovalRequestRecord) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "approval_id": {"S": record.approval_id},
                "status": {"S": record.status},
                "task_token": {"S": record.task_token},
                "document": {"S": record.model_dump_json(exclude={"task_token", "status", "decisions", "emails"})},
                "decisions": {"M": {}},
                "emails": {"M": {}},
                "expires_at": {"N": str(record.expires_at)},
            },
            ConditionExpression="attribute_not_exists(approval_id)",
        )

    def get(self, approval_id: str) -> ApprovalRequestRecord | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"approval_id": {"S": approval_id}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        document = json.loads(item["document"]["S"])
        decisions = {
            approver: StoredDecision.model_validate_json(value["S"])
            for approver, value in item.get("decisions", {}).get("M", {}).items()
        }
        emails = {
            key: EmailDelivery.model_validate_json(value["S"])
            for key, value in item.get("emails", {}).get("M", {}).items()
        }
        return ApprovalRequestRecord(
            **document,
            status=item["status"]["S"],
            task_token=item["task_token"]["S"],
            decisions=decisions,
            emails=emails,
        )

    def add_decision(self, approval_id: str, decision: StoredDecision) -> bool:
        """Record one approver's decision once, only while the request is pending. False if refused."""
        return self._update_while_pending(
            approval_id,
            "SET decisions.#approver = :decision",
            names={"#approver": decision.approver_id},
            values={":decision": {"S": decision.model_dump_json()}},
            extra_condition="attribute_not_exists(decisions.#approver)",
        )

    def record_email(self, approval_id: str, key: str, delivery: EmailDelivery) -> bool:
        """Remember what became of one email (``key``), once: a step run again sends only what is not recorded.
        False if it was recorded already."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"approval_id": {"S": approval_id}},
                UpdateExpression="SET emails.#key = :delivery",
                ConditionExpression="attribute_exists(approval_id) AND attribute_not_exists(emails.#key)",
                ExpressionAttributeNames={"#key": key},
                ExpressionAttributeValues={":delivery": {"S": delivery.model_dump_json()}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def replace_task_token(self, approval_id: str, task_token: str) -> bool:
        """Point a pending request at the workflow's new callback (after escalation). False if it closed."""
        return self._update_while_pending(approval_id, "SET task_token = :token", values={":token": {"S": task_token}})

    def close(self, approval_id: str, status: ApprovalStatus) -> bool:
        """Move PENDING -> ``status`` exactly once; only the caller that wins may call back Step Functions."""
        return self._update_while_pending(approval_id, "SET #status = :status", values={":status": {"S": status}})

    def mark_ended(self, approval_id: str) -> None:
        """The workflow ended without taking this decision (stopped, timed out): whatever was stored, nothing is
        approved any more and the page refuses every link."""
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"approval_id": {"S": approval_id}},
            UpdateExpression="SET #status = :ended",
            ConditionExpression="attribute_exists(approval_id)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":ended": {"S": "ENDED"}},
        )

    def _update_while_pending(
        self,
        approval_id: str,
        update: str,
        *,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        extra_condition: str | None = None,
    ) -> bool:
        """A conditional update that only applies while the request is PENDING; False when it was not."""
        condition = "#status = :pending" + (f" AND {extra_condition}" if extra_condition else "")
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"approval_id": {"S": approval_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status", **(names or {})},
                ExpressionAttributeValues={":pending": {"S": "PENDING"}, **values},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
