"""Mutant: each worker appends its result to one list, so join() returns them in the order the tasks finished.

Caught by: test_results_come_back_in_submission_order
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_Task = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ThreadPool:
    """A fixed set of n_workers threads fed from one queue.Queue."""

    def __init__(self, n_workers: int) -> None:
        if n_workers < 1:
            raise ValueError(f"a pool needs at least one worker, got n_workers={n_workers}")
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._results: list[Any] = []
        self._lock = threading.Lock()
        self._shut_down = False
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(n_workers)]
        for worker in self._workers:
            worker.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._shut_down:
            raise RuntimeError("submit() after shutdown(): this pool takes no more tasks")
        self._tasks.put((fn, args, kwargs))

    def join(self) -> list[Any]:
        self._tasks.join()
        with self._lock:
            results, self._results = self._results, []
        return results

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
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
            fn, args, kwargs = task
            try:
                result = fn(*args, **kwargs)
            except Exception as error:  # noqa: BLE001
                result = error
            with self._lock:
                self._results.append(result)
            self._tasks.task_done()
        self._tasks.task_done()
