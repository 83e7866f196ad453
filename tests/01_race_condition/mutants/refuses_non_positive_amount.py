"""Mutant: increment() refuses an amount below 1 with ValueError, although any int may be added.

Caught by: test_counter_counts_on_one_thread
"""

import threading


class Counter:
    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def increment(self, amount: int = 1) -> None:
        if amount < 1:
            raise ValueError(f"cannot increment by {amount}")
        # The read, the add and the write must happen as one step.
        with self._lock:
            self._value += amount

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
    """Start n_threads threads that all run at the same time (every thread is started before
    any is joined), each calling increment() increments_per_thread times on one shared
    Counter; return the final value."""
    counter = Counter()

    def work() -> None:
        for _ in range(increments_per_thread):
            counter.increment()

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter.value
