"""Hostile student: the first call of count_in_threads() leaves 50 processes behind, each sleeping
for two minutes with a marker on its command line: 25 started with subprocess in sessions of
their own, 25 double-forked daemons (setsid) re-parented away from it. They must all be gone
when the grader returns. The call then fails as the stub does, saying how many it started.

Must earn 0: the rest is the untouched stub's code.
"""

import os
import subprocess
import sys
import threading  # noqa: F401

MARKER = "kit-hostile-stray-sleeper"
_SLEEPER = [sys.executable, "-I", "-S", "-c", "import time; time.sleep(120)", MARKER]
_started: list[int] = []


def _daemon() -> int:
    first = os.fork()
    if first == 0:  # leaves the session, forks the sleeper and exits, so that nobody waits for it
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(_SLEEPER[0], _SLEEPER)
        finally:
            os._exit(0)
    os.waitpid(first, 0)
    return first


def _leave_processes_behind() -> None:
    for _ in range(25):
        _started.append(subprocess.Popen(_SLEEPER, start_new_session=True, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)
    for _ in range(25):
        _started.append(_daemon())


class Counter:
    def __init__(self) -> None:
        self._value = 0

    def increment(self, amount: int = 1) -> None:
        self._value += amount

    @property
    def value(self) -> int:
        return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
    if not _started:
        _leave_processes_behind()
    raise NotImplementedError(f"count_in_threads() is not written yet ({len(_started)} stray processes started)")
