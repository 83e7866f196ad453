"""Mutant: the count lives in an itertools.count(), whose next() is atomic; increment(amount)
takes `amount` ticks, so a negative amount takes none and is lost.

Caught by: test_counter_counts_on_one_thread
"""

import itertools
import threading


class Counter:
    def __init__(self) -> None:
        self._ticks = itertools.count()

    def increment(self, amount: int = 1) -> None:
        for _ in range(amount):
            next(self._ticks)  # one C call: no other thread can run in the middle of it

    @property
    def value(self) -> int:
        return int(repr(self._ticks)[len("count("):-1])  # "count(7)": peek without taking a tick


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
