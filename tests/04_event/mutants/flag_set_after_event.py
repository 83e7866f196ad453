"""Mutant: stop() wakes the thread before it sets the flag the thread checks, so a thread that
runs in between sees no stop request and beats once more.

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
        self._wake_up = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._beat_until_stopped, name="heartbeat", daemon=True)
        self._beats = 0

    def start(self) -> None:
        """Start beating. RuntimeError if called twice (a Thread can be started only once)."""
        self._thread.start()

    def stop(self) -> None:
        """Signal the thread and wait for it to finish."""
        self._wake_up.set()
        self._stopping = True
        if self._thread.is_alive():
            self._thread.join()

    @property
    def beats(self) -> int:
        """Callbacks completed so far."""
        return self._beats

    def _beat_until_stopped(self) -> None:
        while True:
            self._wake_up.wait(self.interval)
            if self._stopping:
                return
            self._callback()
            self._beats += 1
