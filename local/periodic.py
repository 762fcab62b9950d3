"""A daemon thread that calls a function every few seconds until it is stopped: how the emulated service keeps
writing its metrics and logs while a rollback runs."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    def __init__(self, name: str, tick: Callable[[], None], every_seconds: float) -> None:
        self._tick = tick
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._tick()
            except Exception:  # the emulators are shutting down
                if self._stop.is_set():
                    return
                raise
