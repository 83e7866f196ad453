"""One machine-wide lock that keeps timing checks alone while a class is graded in parallel.

Every test of every grading process on the machine holds the lock shared; a test marked
`timing` (its verdict compares a clock with a bar that a CPU shortage could cross) holds it
exclusively, so no other test of any student runs beside it. A second file, the turnstile,
gives the timing test priority: once it waits, no new test starts until it has run.

POSIX only (fcntl.flock). Where fcntl does not exist, the batch grader grades one student at
a time and needs no lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


class TimingLock:
    """Shared and exclusive holds on `path` (created when missing), with writer priority."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.turnstile = self.path.with_name(self.path.name + ".turnstile")

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        with ExitStack() as held:
            with _flocked(self.turnstile, fcntl.LOCK_EX):
                held.enter_context(_flocked(self.path, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH))
            yield


@contextmanager
def _flocked(path: Path, mode: int) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, mode)
        yield
    finally:
        os.close(descriptor)  # closing the only descriptor releases the flock
