"""A heartbeat: calls a function at a steady pace on a background thread until stopped.

Think of a service that tells a monitor "I am alive" every few seconds. When the program
shuts down, the heartbeat has to stop at once, not after its next sleep, and it must not
beat once more after it has been stopped.
"""

from __future__ import annotations

import threading  # noqa: F401 - you will need it
from collections.abc import Callable


class Heartbeat:
    """Calls callback() every `interval` seconds on a background thread until stopped.
    The first beat comes one interval after start()."""

    def __init__(self, interval: float, callback: Callable[[], None]) -> None:
        self.interval = interval
        self._callback = callback
        # TODO: create the background thread, the beat count, and whatever lets stop()
        # wake the thread up in the middle of an interval.

    def start(self) -> None:
        """Start beating. RuntimeError if called twice."""
        raise NotImplementedError("start() is not written yet")

    def stop(self) -> None:
        """Signal the thread and wait for it to finish. Returns within 0.2 s even when interval is long;
        after it returns the callback is not running and never runs again. Idempotent; safe before start()."""
        raise NotImplementedError("stop() is not written yet")

    @property
    def beats(self) -> int:
        """Callbacks completed so far."""
        raise NotImplementedError("beats is not written yet")
