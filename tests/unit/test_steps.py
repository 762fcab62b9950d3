"""The step wrapper: an oversized error message is bounded before it reaches the workflow's state, keeping its class
(the name the ASL matches), and the whole text goes to the log."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from functions.errors import ServiceUnhealthy
from functions.steps import MAX_ERROR_MESSAGE, step


@dataclass
class Context:
    function_name: str = "test"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id: str = "r-1"


class Event(BaseModel):
    size: int


@step
def fails_at_length(event: Event) -> None:
    raise ServiceUnhealthy("x" * event.size)


def test_an_oversized_error_keeps_its_class_and_is_bounded() -> None:
    with pytest.raises(ServiceUnhealthy) as raised:
        fails_at_length({"size": 3 * MAX_ERROR_MESSAGE}, Context())  # type: ignore[arg-type]
    assert len(str(raised.value)) <= MAX_ERROR_MESSAGE
    assert str(raised.value).endswith(f"[{3 * MAX_ERROR_MESSAGE} characters]")
