"""Forced interleavings: make races show up on every run instead of once in a blue moon.

On CPython 3.10 and later a thread keeps the GIL for a whole switch interval, so an unlocked
`self.value += 1` run by a few threads is almost never interrupted between its read and its
write; repeating the test does not help. This module traces the student's code opcode by
opcode and, at seeded random points, gives the GIL away with a tiny sleep. Another thread then
runs in the middle of the student's read-modify-write, exactly where a real scheduler could
have switched. Only frames of the given files are traced, so the harness and the standard
library (including `threading.Lock` itself) keep running normally.

A correct solution cannot fail under any interleaving; an unprotected critical section fails
on almost every schedule. The seed makes a failing schedule's preemption points reproducible.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

# Probability of giving up the GIL before an opcode of the traced code. High enough that every
# read-modify-write of a few opcodes is interrupted many times per run, low enough that a
# correct solution still finishes in well under a second.
DEFAULT_PREEMPTION_RATE = 0.1

# time.sleep(0) does not reliably hand the GIL to another thread on 3.10; a sleep of one
# microsecond does on every supported version (measured: an unlocked counter failed 50 of 50
# schedules with it, 9 of 50 with sleep(0), on 3.10).
_YIELD_SECONDS = 1e-6


def _source_file(target: ModuleType | str | Path) -> str:
    if isinstance(target, ModuleType):
        if target.__file__ is None:
            raise ValueError(f"module {target.__name__} has no source file to trace")
        return str(Path(target.__file__).resolve())
    return str(Path(target).resolve())


@contextmanager
def forced_interleavings(
    targets: Iterable[ModuleType | str | Path],
    seed: int,
    rate: float = DEFAULT_PREEMPTION_RATE,
) -> Iterator[None]:
    """Preempt threads at random opcodes of `targets` while the block runs.

    Applies to the calling thread and to every thread started inside the block.
    """
    files = {_source_file(target) for target in targets}
    rng = random.Random(seed)
    traced_code: dict[Any, bool] = {}

    def trace_opcodes(frame: FrameType, event: str, arg: object) -> Any:
        if event == "opcode" and rng.random() < rate:
            time.sleep(_YIELD_SECONDS)
        return trace_opcodes

    def trace_calls(frame: FrameType, event: str, arg: object) -> Any:
        code = frame.f_code
        is_target = traced_code.get(code)
        if is_target is None:
            is_target = traced_code[code] = str(Path(code.co_filename).resolve()) in files
        if not is_target:
            return None
        frame.f_trace_opcodes = True
        return trace_opcodes

    previous = sys.gettrace()
    threading.settrace(trace_calls)
    sys.settrace(trace_calls)
    try:
        yield
    finally:
        sys.settrace(previous)
        threading.settrace(None)  # type: ignore[arg-type]
