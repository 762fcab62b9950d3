"""``os.environ`` for Lambda functions run in-process: a thread running a handler sees (and changes) that
function's own environment; every other thread (tests, moto's server, other executions) sees the process's,
never swapped under it. Swapping the process environment for each invocation let other threads read a cleared
or foreign one (spurious ``KeyError``s and wrong regions in concurrent runs)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any


class ThreadEnvironment(MutableMapping[str, str]):
    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process
        self._local = threading.local()

    def _current(self) -> MutableMapping[str, str]:
        own: MutableMapping[str, str] | None = getattr(self._local, "variables", None)
        return own if own is not None else self.process

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    @contextmanager
    def of_function(self, variables: Mapping[str, str]) -> Iterator[None]:
        """This thread sees the process's environment with ``variables`` on top until the block ends."""
        previous = getattr(self._local, "variables", None)
        self._local.variables = {**self.process, **variables}
        try:
            yield
        finally:
            self._local.variables = previous


def thread_environment() -> ThreadEnvironment:
    """Install (once) and return the thread-aware ``os.environ``."""
    current: Any = os.environ
    if not isinstance(current, ThreadEnvironment):
        current = ThreadEnvironment(os.environ)
        os.environ = current  # noqa: B003 - the process's stays underneath
    environment: ThreadEnvironment = current
    return environment
