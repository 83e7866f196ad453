"""A thread pool of your own: a fixed set of worker threads fed from one queue.Queue.

Starting one thread per task gets expensive when there are many tasks. A pool starts its
workers once; they take the tasks one by one from a shared queue, so only n_workers tasks run
at a time, however many are waiting.
"""

from __future__ import annotations

import queue  # noqa: F401 - you will need it
import threading  # noqa: F401 - you will need it
from collections.abc import Callable
from typing import Any


class ThreadPool:
    """A fixed set of n_workers threads fed from one queue.Queue."""

    def __init__(self, n_workers: int) -> None:
        # TODO: raise ValueError if n_workers < 1; create the queue and start the workers here.
        raise NotImplementedError("ThreadPool.__init__() is not written yet")

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue the call fn(*args, **kwargs); raise RuntimeError after shutdown()."""
        raise NotImplementedError("ThreadPool.submit() is not written yet")

    def join(self) -> list[Any]:
        """Wait for every task submitted since the last join(); return their results in submission order.
        A task that raised contributes its exception object in its place."""
        raise NotImplementedError("ThreadPool.join() is not written yet")

    def shutdown(self) -> None:
        """Let queued tasks finish, then stop and join every worker. Idempotent."""
        raise NotImplementedError("ThreadPool.shutdown() is not written yet")

    def __enter__(self) -> ThreadPool:
        raise NotImplementedError("ThreadPool.__enter__() is not written yet")

    def __exit__(self, *exc_info: object) -> None:
        """Leaving a `with ThreadPool(n) as pool:` block shuts the pool down."""
        raise NotImplementedError("ThreadPool.__exit__() is not written yet")
