"""Speedup measured so that a busy or small grading machine never fails a correct solution,
and so that nothing the student's code does can inflate a baseline or slow the reference.

An absolute time means nothing on a shared 2-core machine: the same process pool measured
1.1x in one run and 1.95x in the next while other work ran. So speedups are always ratios
measured in one run, with the sequential and parallel measurements of every round interleaved
(a burst of load hits both), the best of several rounds kept (the least disturbed measurement
is the truest), and the bar set relative to the reference implementation measured in the same
rounds. CPU time of processes is read from the kernel by the grading process, never reported
by the process that used it. The one exception is 06's sequential baseline, which must count
only the `is_prime` calls of the workers (not a thread burning CPU beside them): the trusted
watcher in each forked worker reads the calling thread's clock and signs what it reports with
a key the student's module never saw (tests/06_primes/probes.py, watchers.signer).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# A correct solution must reach this share of the reference's gain over sequential code.
SHARE_OF_REFERENCE_GAIN = 0.5
# Below this reference speedup the machine is too loaded to tell parallel from sequential.
MIN_MEASURABLE_SPEEDUP = 1.3

_PROC = Path("/proc")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_read_cpu_time_of_other_processes() -> bool:
    """Whether this OS lets the grader read the CPU time of a child's processes (see process_tree)."""
    return process_tree(os.getpid()) is not None


# -- the CPU time of a process tree -------------------------------------------------------------


@dataclass(frozen=True)
class _Times:
    own: float  # CPU seconds of the process itself, all its threads
    reaped: float  # CPU seconds of its children that ended and were waited for


@dataclass(frozen=True)
class ProcessTree:
    """One reading of the kernel's CPU accounts of a process and all its descendants."""

    root: int
    processes: dict[tuple[int, int], _Times]  # by (pid, start time): a reused pid is another process
    # Processes that ignore SIGCHLD: the kernel reaps their children without adding the children's
    # CPU time to any account, so whatever those children ran is missing from these readings.
    unwaited: tuple[int, ...] = ()

    @property
    def pids(self) -> list[int]:
        return [pid for pid, _ in self.processes]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after "pid (command)", or None if it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_tree(root: int) -> ProcessTree | None:
    """The CPU accounts of `root` and every process below it, read from /proc; None where
    there is no /proc (macOS, Windows) or `root` is gone.

    A process that ended and was waited for adds its CPU time to its parent's `reaped`
    account, so nothing its tree ever ran is lost, however short-lived.
    """
    if not sys.platform.startswith("linux") or not _PROC.is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    fields_of: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            fields_of[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    if root not in fields_of:
        return None
    processes: dict[tuple[int, int], _Times] = {}
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        # After "pid (comm)": state ppid ... utime(11) stime(12) cutime(13) cstime(14) ... starttime(19)
        fields = fields_of[pid]
        own = (int(fields[11]) + int(fields[12])) / tick
        reaped = (int(fields[13]) + int(fields[14])) / tick
        processes[(pid, int(fields[19]))] = _Times(own, reaped)
        waiting.extend(children.get(pid, []))
    return ProcessTree(root, processes, tuple(pid for pid, _ in processes if _ignores_sigchld(pid)))


def _ignores_sigchld(pid: int) -> bool:
    """Whether the process ignores SIGCHLD (its SigIgn mask in /proc/<pid>/status)."""
    try:
        status = (_PROC / str(pid) / "status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGCHLD - 1) & 1)
    return False


def uncounted_children(*trees: ProcessTree) -> str | None:
    """Why CPU time read from these trees may be missing some (processes that ignore SIGCHLD),
    in words for the student; None when nothing escapes them."""
    unwaited = sorted({pid for tree in trees for pid in tree.unwaited})
    if not unwaited:
        return None
    return (f"{len(unwaited)} of your processes ignored SIGCHLD, so the CPU time of the processes they"
            " started could not be counted; do not change how child processes are reaped")


def cpu_of_tree_between(before: ProcessTree, after: ProcessTree) -> float:
    """CPU seconds every process of the tree used between the two readings: the root, the
    processes that lived through both, and those started or ended in between.

    A process that ended was counted at its last reading; its whole account then went to the
    one that waited for it, an ancestor in the tree (the sandbox's supervisor is the subreaper
    of every orphan), so the difference of the totals holds exactly what ran in between. Not
    counted: a child whose parent ignores SIGCHLD, since the kernel then reaps it without
    crediting anyone (see `uncounted_children`).
    """
    return _total(after) - _total(before)


def _total(tree: ProcessTree) -> float:
    return sum(times.own + times.reaped for times in tree.processes.values())


# -- keeping the candidates apart ---------------------------------------------------------------


@contextmanager
def frozen(root: int) -> Iterator[None]:
    """Stop `root`'s process group and every process below it for the block (SIGSTOP, then
    SIGCONT), so that nothing it runs can take CPU time from what is measured meanwhile.
    Where there are no such signals (Windows), the block runs without it."""
    if not hasattr(signal, "SIGSTOP"):
        yield
        return
    stopped: set[int] = set()
    try:
        _signal_group(root, signal.SIGSTOP)
        for _ in range(2):  # a second pass for processes forked while the first one ran
            tree = process_tree(root)
            for pid in tree.pids if tree else []:
                if pid not in stopped and _signal(pid, signal.SIGSTOP):
                    stopped.add(pid)
        yield
    finally:
        _signal_group(root, signal.SIGCONT)
        for pid in stopped:
            _signal(pid, signal.SIGCONT)


def _signal_group(group: int, signal_number: int) -> None:
    try:
        os.killpg(group, signal_number)
    except OSError:  # gone already, or not a group leader
        pass


def _signal(pid: int, signal_number: int) -> bool:
    try:
        os.kill(pid, signal_number)
    except OSError:
        return False
    return True


def restore_affinity(root: int) -> list[int]:
    """Let every thread of `root` and its descendants run on all the cores this process may
    use again; return the ids of the threads that had been confined to fewer (an empty list
    where the OS has no CPU affinity)."""
    if not hasattr(os, "sched_setaffinity"):
        return []
    cores = os.sched_getaffinity(0)
    tree = process_tree(root)
    narrowed = []
    for pid in tree.pids if tree else []:
        try:
            threads = [int(task.name) for task in (_PROC / str(pid) / "task").iterdir()]
        except OSError:
            continue
        for thread in threads:
            try:
                if os.sched_getaffinity(thread) != cores:
                    narrowed.append(thread)
                    os.sched_setaffinity(thread, cores)
            except OSError:  # the thread ended meanwhile
                continue
    return narrowed


# -- speedups -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speedup:
    sequential: float  # seconds the work takes one piece after another
    parallel: float  # seconds it took in parallel
    rounds: int = 1  # rounds measured; the seconds are the best of them

    @property
    def ratio(self) -> float:
        return self.sequential / self.parallel


Measurement = Callable[[], Speedup]  # runs the workload once: its sequential and parallel seconds


def best_speedups(candidates: Mapping[str, Measurement], rounds: int,
                  settled: Callable[[dict[str, Speedup]], bool] | None = None) -> dict[str, Speedup]:
    """Measure each candidate up to `rounds` times, interleaved, and keep its least disturbed
    sequential and parallel seconds (each the smallest of all its rounds).

    The order of candidates rotates every round so that none is always measured first. After
    each round, `settled(best so far)` may end the measurement: it must say True only when no
    further round could change the verdict.
    """
    names = list(candidates)
    measured: dict[str, list[Speedup]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            measured[name].append(candidates[name]())
        best = {
            name: Speedup(min(m.sequential for m in runs), min(m.parallel for m in runs), len(runs))
            for name, runs in measured.items()
        }
        if settled is not None and settled(best):
            break
    return best


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
        f"your speedup {student.ratio:.2f}x ({student.sequential:.2f} s of work one after another,"
        f" done in {student.parallel:.2f} s); the reference reached {reference.ratio:.2f}x"
        f" on this machine's {cores} usable cores in the same rounds; the bar is {threshold:.2f}x"
    )
    if reference.ratio < MIN_MEASURABLE_SPEEDUP:
        return SpeedupVerdict(False, False, threshold,
                              f"the machine is too busy to measure a speedup: {facts}")
    passed = student.ratio >= threshold
    return SpeedupVerdict(True, passed, threshold, facts)
