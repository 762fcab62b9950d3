"""CloudWatch Logs Insights: one query started (``StartQuery``) and read (``GetQueryResults``) until it ends, within
a deadline. Every call has a timeout (the client's); a transient failure (:mod:`functions.transient`) is tried
again while the deadline allows, anything else ends it with the reason."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.adapters.aws import client_with_timeouts
from functions.transient import describe_error, is_transient

ENDED_BADLY = frozenset({"Failed", "Cancelled", "Timeout", "Unknown"})
MOST_ROWS = 10_000  # what GetQueryResults returns at most, whatever the query's limit


def logs_client() -> Any:
    return client_with_timeouts("logs", connect_seconds=2, read_seconds=10, attempts=2)


@dataclass(frozen=True)
class QueryResults:
    query_id: str
    rows: list[dict[str, str]]  # each row's fields by name (Logs Insights' own @ptr left out)


class QueryFailed(Exception):
    """The query could not be started, failed, or did not end in time: the message says which (with its id)."""

    def __init__(self, message: str, query_id: str | None = None) -> None:
        super().__init__(message)
        self.query_id = query_id


class LogsInsights:
    def __init__(
        self,
        logs: Any,
        *,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logs = logs
        self._poll = poll_seconds
        self._sleep = sleep
        self._clock = clock

    def run(
        self, log_groups: list[str], query: str, start: datetime, end: datetime, wait_seconds: float
    ) -> QueryResults:
        """The rows of ``query`` over ``log_groups`` between ``start`` and ``end`` (whole seconds, both included),
        once the query is Complete; raises :class:`QueryFailed` otherwise, at the latest after ``wait_seconds``."""
        deadline = self._clock() + wait_seconds
        query_id = self._start(log_groups, query, start, end, deadline)
        status = "Scheduled"
        while True:
            try:
                page = self._logs.get_query_results(queryId=query_id)
            except Exception as error:
                if not is_transient(error):
                    raise QueryFailed(f"reading query {query_id}: {describe_error(error)}", query_id) from error
            else:
                status = page.get("status", "Unknown")
                if status == "Complete":
                    return QueryResults(query_id, [_row(fields) for fields in page.get("results", [])])
                if status in ENDED_BADLY:
                    raise QueryFailed(f"query {query_id} ended {status}", query_id)
            if self._clock() + self._poll > deadline:
                raise QueryFailed(
                    f"query {query_id} still {status} after {wait_seconds:g} s (Logs Insights keeps its results for "
                    "7 days: read them there)",
                    query_id,
                )
            self._sleep(self._poll)

    def _start(self, log_groups: list[str], query: str, start: datetime, end: datetime, deadline: float) -> str:
        delay = self._poll
        while True:
            try:
                started = self._logs.start_query(
                    logGroupNames=log_groups, startTime=int(start.timestamp()), endTime=math.ceil(end.timestamp()),
                    queryString=query,
                )  # fmt: skip
                return str(started["queryId"])
            except Exception as error:
                if not is_transient(error) or self._clock() + delay > deadline:
                    raise QueryFailed(f"starting the query: {describe_error(error)}") from error
            self._sleep(delay)
            delay *= 2


def _row(fields: list[dict[str, str]]) -> dict[str, str]:
    return {field["field"]: field.get("value", "") for field in fields if field.get("field") != "@ptr"}
