"""Speedup measured so that a busy or small grading machine never fails a correct solution.

An absolute time means nothing on a shared 2-core machine: the same process pool measured
1.1x in one run and 1.95x in the next while other work ran. So speedups are always ratios
measured in one run, with sequential and parallel timings interleaved (a burst of load hits
both), the best of several rounds kept (the least disturbed measurement is the truest), and
the bar set relative to the reference implementation measured in the same rounds.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

# A correct solution must reach this share of the reference's gain over sequential code.
SHARE_OF_REFERENCE_GAIN = 0.5
# Below this reference speedup the machine is too loaded to tell parallel from sequential.
MIN_MEASURABLE_SPEEDUP = 1.3

Timer = Callable[[], float]  # runs the workload once and returns seconds taken


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_clock_of(pid: int) -> Callable[[], float] | None:
    """A function that returns the CPU seconds process `pid` has used so far (all its threads,
    not its children), or None where the OS lets no process read another's CPU time.

    Only the kernel keeps this clock, so the process it measures cannot touch it. Linux gives
    every process a CPU-time clock whose id derives from its pid, as clock_getcpuclockid(3)
    computes it: (~pid << 3) | 2, the scheduler's count of the whole process's run time.
    """
    if not sys.platform.startswith("linux"):
        return None
    clock_id = (~pid << 3) | 2
    try:
        time.clock_gettime(clock_id)
    except OSError:  # no such process, or a kernel without per-process clocks
        return None
    return partial(time.clock_gettime, clock_id)


@dataclass(frozen=True)
class Speedup:
    sequential: float  # best seconds
    parallel: float  # best seconds

    @property
    def ratio(self) -> float:
        return self.sequential / self.parallel


def best_speedups(candidates: Mapping[str, tuple[Timer, Timer]], rounds: int) -> dict[str, Speedup]:
    """Time each candidate's (sequential, parallel) pair `rounds` times, interleaved.

    The order of candidates rotates every round so that none is always measured first.
    """
    names = list(candidates)
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            sequential, parallel = candidates[name]
            times[name][0].append(sequential())
            times[name][1].append(parallel())
    return {name: Speedup(min(seq), min(par)) for name, (seq, par) in times.items()}


@dataclass(frozen=True)
class SpeedupVerdict:
    measurable: bool
    passed: bool
    threshold: float
    explanation: str


def judge_speedup(student: Speedup, reference: Speedup, cores: int) -> SpeedupVerdict:
    """Compare a student's speedup with the reference's, measured in the same rounds."""
    threshold = 1 + SHARE_OF_REFERENCE_GAIN * (reference.ratio - 1)
    facts = (
        f"your speedup {student.ratio:.2f}x ({student.sequential:.2f} s sequential,"
        f" {student.parallel:.2f} s parallel); the reference reached {reference.ratio:.2f}x"
        f" on this machine's {cores} usable cores in the same rounds; the bar is {threshold:.2f}x"
    )
    if reference.ratio < MIN_MEASURABLE_SPEEDUP:
        return SpeedupVerdict(False, False, threshold,
                              f"the machine is too busy to measure a speedup: {facts}")
    passed = student.ratio >= threshold
    return SpeedupVerdict(True, passed, threshold, facts)
