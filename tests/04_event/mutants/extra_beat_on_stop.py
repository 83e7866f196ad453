"""Mutant: the loop ignores what wait() returned, so the wake-up from stop() runs the callback once more.

Caught by: test_stop_never_adds_a_beat
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Heartbeat:
    """Calls callback() every `interval` seconds on a background thread until stopped.
    The first beat comes one interval after start()."""

    def __init__(self, interval: float, callback: Callable[[], None]) -> None:
        self.interval = interval
        self._callback = callback
        self._stopped = threading.Event()
        # Daemon: a program that forgets to call stop() can still exit.
        self._thread = threading.Thread(target=self._beat_until_stopped, name="heartbeat", daemon=True)
        self._beats = 0

    def start(self) -> None:
        """Start beating. RuntimeError if called twice (a Thread can be started only once)."""
        self._thread.start()

    def stop(self) -> None:
        """Signal the thread and wait for it to finish. Returns within 0.2 s even when interval is long;
        after it returns the callback is not running and never runs again. Idempotent; safe before start()."""
        self._stopped.set()
        if self._thread.is_alive():  # never started, or already finished: nothing to wait for
            self._thread.join()

    @property
    def beats(self) -> int:
        """Callbacks completed so far."""
        return self._beats

    def _beat_until_stopped(self) -> None:
        while not self._stopped.is_set():
            self._stopped.wait(self.interval)
            self._callback()
            self._beats += 1  # only this thread writes the count, so no lock is needed
