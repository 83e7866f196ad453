"""Hostile student: a correct Counter, but count_in_threads() computes the first total it is
asked for and replays it on every later call, hoping that a grader which asks once per process,
or compares the answers of one call only, never notices.

Must earn 0: every group needs count_in_threads() (correctness and concurrency call it, and
the second race check runs it), and each of those tests calls it more than once with
different sizes.
"""

import threading

_first_total: list[int] = []


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
    if _first_total:
        return _first_total[0]
    counter = Counter()

    def work() -> None:
        for _ in range(increments_per_thread):
            counter.increment()

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _first_total.append(counter.value)
    return counter.value
