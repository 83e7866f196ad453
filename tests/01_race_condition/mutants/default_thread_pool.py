"""Mutant: count_in_threads() hands the work to a ThreadPoolExecutor() of the default size,
which runs at most min(32, cores + 4) threads at once, fewer than n_threads when n_threads is
large.

Caught by: test_threads_run_at_the_same_time
"""

import threading
from concurrent.futures import ThreadPoolExecutor


class Counter:
    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def increment(self, amount: int = 1) -> None:
        with self._lock:
            self._value += amount

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
    counter = Counter()

    def work() -> None:
        for _ in range(increments_per_thread):
            counter.increment()

    with ThreadPoolExecutor() as pool:
        for _ in range(n_threads):
            pool.submit(work)
    return counter.value
