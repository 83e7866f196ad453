"""Hostile student handing in a .zip file whose members climb out of wherever it is unpacked:
the test packs this file as `../../exercises/01_race_condition/counter.py` beside members named
`../../../kit-hostile-zip-slip.txt`, `/tmp/kit-hostile-zip-slip.txt` and a deep `../` chain to
/tmp. A grader that extracted it would write outside its folders (and might pick up a module
from outside).

No file may appear at any of those places. This is the untouched stub's code: must earn 0.
"""

import threading  # noqa: F401


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
