"""Fault injection shared by the flag providers' fakes: fail the next calls, fail every write of one flag, or make
the next write land and then lose its answer (what a timeout after the write looks like to the caller)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    next_failures: list[int] = field(default_factory=list)
    failing_flags: dict[str, int] = field(default_factory=dict)
    lose_next_write_answer: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """The next ``times`` calls (any) answer ``status`` and change nothing."""
        with self._lock:
            self.next_failures.extend([status] * times)

    def fail_writes_of(self, flag: str, status: int = 500) -> None:
        """Every write of ``flag`` answers ``status`` and changes nothing."""
        self.failing_flags[flag] = status

    def lose_answer_of_next_write(self, status: int = 502) -> None:
        """The next write is made, then answered ``status`` (as a gateway timing out after the write would)."""
        self.lose_next_write_answer = status

    def before_call(self) -> int | None:
        with self._lock:
            return self.next_failures.pop(0) if self.next_failures else None

    def after_write(self) -> int | None:
        status, self.lose_next_write_answer = self.lose_next_write_answer, None
        return status


def error(status: int, message: str) -> tuple[int, str, str]:
    return status, "application/json", json.dumps({"messages": [message], "success": False})
