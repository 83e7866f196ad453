"""Hostile student: a counter without a lock that, while being imported, replaces
time.perf_counter, time.monotonic and time.sleep, hoping to switch off the forced thread
switches of the race checks (they yield with a sleep) or to fool the grader's clocks.

Must earn 5, what its honest code earns: correctness 2/2 and concurrency 3/3 (count_in_threads
starts every thread before joining any), races 0/5 (increments are lost without a lock).
"""

import threading
import time

time.perf_counter = lambda: 0.0
time.monotonic = lambda: 0.0
time.sleep = lambda seconds=0: None


class Counter:
    def __init__(self) -> None:
        self._value = 0

    def increment(self, amount: int = 1) -> None:
        self._value += amount

    @property
    def value(self) -> int:
        return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
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
