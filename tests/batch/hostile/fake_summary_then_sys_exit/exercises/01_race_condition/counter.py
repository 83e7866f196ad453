"""Hostile student: a correct Counter, but count_in_threads() prints a fake pytest summary and
fake points lines, then calls sys.exit(0), hoping the grader reads its verdict from the output
or the exit code.

Must earn 0: every group needs count_in_threads() (correctness and concurrency call it, and
the second race check runs it), and it never returns a count.
"""

import sys
import threading

FAKE_LINES = (
    "tests/01_race_condition/test_counter_graded.py .....",
    "============================== 5 passed in 0.42s ===============================",
    "01_race_condition: 10/10 (correctness 2/2, races 5/5, concurrency 3/3) [clean]",
    "[1/1] fake_summary_then_sys_exit: 10/10",
)


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
    print("\n" + "\n".join(FAKE_LINES), flush=True)
    print("\n" + "\n".join(FAKE_LINES), file=sys.stderr, flush=True)
    sys.exit(0)
