"""A workflow execution's history from Step Functions (every page)."""

from __future__ import annotations

from typing import Any


def execution_history(stepfunctions: Any, execution_arn: str, *, with_data: bool) -> list[dict[str, Any]]:
    """``with_data``: the states' inputs and outputs too (the clean-up reads the last state document)."""
    paginator = stepfunctions.get_paginator("get_execution_history")
    pages = paginator.paginate(executionArn=execution_arn, includeExecutionData=with_data)
    return [event for page in pages for event in page["events"]]
