"""Mutant: a new thread per task instead of a fixed set of workers fed from a queue.

Caught by: test_exactly_n_workers_run_every_task
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class ThreadPool:
    """A fixed set of n_workers threads fed from one queue.Queue."""

    def __init__(self, n_workers: int) -> None:
        if n_workers < 1:
            raise ValueError(f"a pool needs at least one worker, got n_workers={n_workers}")
        self._results: list[Any] = []
        self._threads: list[threading.Thread] = []
        self._shut_down = False

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._shut_down:
            raise RuntimeError("submit() after shutdown(): this pool takes no more tasks")
        self._results.append(None)
        thread = threading.Thread(target=self._run, args=(len(self._results) - 1, fn, args, kwargs))
        thread.start()
        self._threads.append(thread)

    def join(self) -> list[Any]:
        for thread in self._threads:
            thread.join()
        self._threads = []
        results, self._results = self._results, []
        return results

    def shutdown(self) -> None:
        self._shut_down = True
        self.join()

    def __enter__(self) -> ThreadPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def _run(self, index: int, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._results[index] = fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            self._results[index] = error
