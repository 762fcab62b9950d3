"""Incidents: one per service and environment within the incident window, so an alarm storm becomes one
rollback. The first alarm opens it (conditional write); the others are attached to it; the rollback's report
closes it out (its outcome, RTO, RPO and record written onto the item)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


def incident_key(service: str, environment: str) -> str:
    return f"{service}#{environment}"


@dataclass(frozen=True)
class Incident:
    key: str
    execution_name: str
    scenario: str
    opening_alarm: str
    opened: bool  # True when this call opened it
    alarms: list[str]


class IncidentStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def open_or_attach(
        self, key: str, *, alarm_id: str, execution_name: str, scenario: str, now: datetime, window: timedelta
    ) -> Incident:
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "incident_key": {"S": key},
                    "execution_name": {"S": execution_name},
                    "scenario": {"S": scenario},
                    "opening_alarm": {"S": alarm_id},
                    "opened_at": {"S": now.isoformat()},
                    "expires_at": {"N": str(int((now + window).timestamp()))},
                    "alarms": {"L": [{"S": alarm_id}]},
                },
                ConditionExpression="attribute_not_exists(incident_key) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now.timestamp()))}},
            )
            return Incident(key, execution_name, scenario, alarm_id, True, [alarm_id])
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        current = self._dynamodb.get_item(TableName=self._table, Key={"incident_key": {"S": key}}, ConsistentRead=True)
        alarms = [a["S"] for a in current["Item"]["alarms"]["L"]]
        if alarm_id not in alarms:
            updated = self._dynamodb.update_item(
                TableName=self._table,
                Key={"incident_key": {"S": key}},
                UpdateExpression="SET alarms = list_append(alarms, :alarm)",
                ExpressionAttributeValues={":alarm": {"L": [{"S": alarm_id}]}},
                ReturnValues="ALL_NEW",
            )
            alarms = [a["S"] for a in updated["Attributes"]["alarms"]["L"]]
        item = current["Item"]
        return Incident(
            key, item["execution_name"]["S"], item["scenario"]["S"], item["opening_alarm"]["S"], False, alarms
        )

    def record_outcome(
        self, key: str, *, execution_name: str, values: dict[str, str | float | None], keep_until: datetime
    ) -> bool:
        """Writes ``values`` onto the incident ``key`` if ``execution_name`` is still its rollback (a later incident
        of the same service may have replaced an expired one): set where known, removed where None, so running it
        again leaves the same item. Then keeps the closed incident as its own item, ``<key>#<opened at>``, until
        ``keep_until`` (the open incident's item lasts only its window, and the next incident replaces it). False
        when the incident is not this execution's (or is gone)."""
        known = {name: value for name, value in values.items() if value is not None}
        if not known:
            raise ValueError("record_outcome needs at least one value to set")
        unknown = sorted(name for name, value in values.items() if value is None)
        names = {f"#{name}": name for name in [*known, *unknown]}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in known)
        if unknown:
            expression += " REMOVE " + ", ".join(f"#{name}" for name in unknown)
        attribute_values: dict[str, Any] = {
            f":{name}": {"N": repr(float(value))} if isinstance(value, int | float) else {"S": value}
            for name, value in known.items()
        }
        try:
            updated = self._dynamodb.update_item(
                TableName=self._table,
                Key={"incident_key": {"S": key}},
                UpdateExpression=expression,
                ConditionExpression="#execution_name = :execution_name",
                ExpressionAttributeNames={**names, "#execution_name": "execution_name"},
                ExpressionAttributeValues={**attribute_values, ":execution_name": {"S": execution_name}},
                ReturnValues="ALL_NEW",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        closed = dict(updated["Attributes"])
        closed["incident_key"] = {"S": closed_incident_key(key, closed["opened_at"]["S"])}
        closed["open_incident_key"] = {"S": key}
        closed["expires_at"] = {"N": str(int(keep_until.timestamp()))}
        self._dynamodb.put_item(TableName=self._table, Item=closed)  # the same item again on a retry
        return True

    def closed_incident(self, key: str, opened_at: str) -> dict[str, Any] | None:
        """The closed incident kept as ``<key>#<opened at>`` (as DynamoDB returns it), if there is one."""
        found = self._dynamodb.get_item(
            TableName=self._table, Key={"incident_key": {"S": closed_incident_key(key, opened_at)}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = found.get("Item")
        return item


def closed_incident_key(key: str, opened_at: str) -> str:
    """The key of a closed incident: its open key and when it was opened (``skillancer#production#2026-...``)."""
    return f"{key}#{opened_at}"
