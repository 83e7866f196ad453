"""Mutant: the workers count down the unfinished tasks without a lock, so a decrement can be lost.

Caught by: test_no_result_is_lost_under_forced_interleavings
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

# One queued task: its position among the tasks since the last join(), the call to make.
_Task = tuple[int, Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ThreadPool:
    """A fixed set of n_workers threads fed from one queue.Queue."""

    def __init__(self, n_workers: int) -> None:
        if n_workers < 1:
            raise ValueError(f"a pool needs at least one worker, got n_workers={n_workers}")
        # None is the sentinel that tells one worker to stop.
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        # One slot per task since the last join(); each worker fills only its task's slot.
        self._results: list[Any] = []
        self._shut_down = False
        self._unfinished = 0
        self._all_done = threading.Event()
        self._all_done.set()
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(n_workers)]
        for worker in self._workers:
            worker.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._shut_down:
            raise RuntimeError("submit() after shutdown(): this pool takes no more tasks")
        self._results.append(None)
        self._all_done.clear()
        self._unfinished += 1
        self._tasks.put((len(self._results) - 1, fn, args, kwargs))

    def join(self) -> list[Any]:
        """Wait for every task submitted since the last join(); return their results in submission order.
        A task that raised contributes its exception object in its place."""
        self._all_done.wait()
        results, self._results = self._results, []
        return results

    def shutdown(self) -> None:
        """Let queued tasks finish, then stop and join every worker. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        # The sentinels queue up behind the remaining tasks, so those still run first.
        for _ in self._workers:
            self._tasks.put(None)
        for worker in self._workers:
            worker.join()

    def __enter__(self) -> ThreadPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            index, fn, args, kwargs = task
            try:
                self._results[index] = fn(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - the task's failure is its result
                self._results[index] = error
            self._unfinished -= 1
            if self._unfinished == 0:
                self._all_done.set()
