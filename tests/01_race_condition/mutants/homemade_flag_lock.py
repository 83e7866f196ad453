"""Mutant: a busy flag instead of a Lock. Two threads can both see the flag down, then both
raise it and go in together (a check-then-act on the flag itself).

Caught by: test_no_update_is_ever_lost
"""

import threading


class Counter:
    def __init__(self) -> None:
        self._value = 0
        self._busy = False

    def increment(self, amount: int = 1) -> None:
        while self._busy:  # wait until no other thread is incrementing
            pass
        self._busy = True
        self._value += amount
        self._busy = False

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
