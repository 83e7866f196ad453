"""Hostile student: while being imported, fills 2 GiB of memory it really touches, then asks for
16 GiB more at once, hoping to take the grading machine down with it.

The rest is the untouched stub's code: must earn 0 whether or not the memory limit stops it.
"""

import threading  # noqa: F401

_GIB = 1 << 30
_held = [bytearray(_GIB) for _ in range(2)]  # zero-filled, so every page is really used
_held.append(bytes(16 * _GIB))


class Counter:
    def __init__(self) -> None:
        self._value = 0

    def increment(self, amount: int = 1) -> None:
        self._value += amount

    @property
    def value(self) -> int:
        return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
    raise NotImplementedError("count_in_threads() is not written yet")
