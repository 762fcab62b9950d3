"""Events as AWS sends them, for tests."""

from __future__ import annotations

from typing import Any


def alarm_state_change(
    state: str = "ALARM",
    previous: str = "OK",
    at: str = "2026-11-28T03:00:00.000+0000",
    name: str = "skillancer-api-5xx",
) -> dict[str, Any]:
    """An EventBridge "CloudWatch Alarm State Change" event."""
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2026-11-28T03:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": at},
            "previousState": {"value": previous, "reason": "ok", "timestamp": "2026-11-28T02:00:00.000+0000"},
            "configuration": {"metrics": []},
        },
    }
