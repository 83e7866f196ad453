"""Trusted probes for 08_futures, run in the sandbox beside the student's tasks.py.

The hidden suite describes each call it wants as plain data (a plan: when the call ends and
whether it returns a value, raises, or returns an exception object); `Calls` turns a plan into
real callables here, and every probe reports what the student's function made of them as
plain data again. Slow calls wait on an event instead of sleeping, so that once the student's
function has returned they can be let go at once instead of lingering for seconds.

The module-level function at the end is what `map_processes` sends to its worker processes:
they import this module by name to find it.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings

# On Python 3.10 concurrent.futures.TimeoutError is not yet the builtin one; both keep the contract.
TIMEOUT_ERRORS = (TimeoutError, concurrent.futures.TimeoutError)
# Where multiprocessing and pickle serialize what goes to a worker process.
PICKLING_FILES = {"reduction.py", "pickle.py", "copyreg.py"}
# Each thread of a first_success() ends only once per schedule, not in a loop of thousands of
# updates, so its few opcodes of bookkeeping are preempted more often than preempt's default:
# an unlocked count of finished calls then loses an update in about 9 schedules out of 10.
PREEMPTION_RATE = 0.3


class Calls:
    """Trusted callables built from a plan.

    Each step of the plan is {"after": seconds, "kind": "value", "value": int or None} or
    {"after": seconds, "kind": "raise" | "return_error", "error": builtin type name, "message": str}.
    A step with "again_of": j stands for the very callable of step j (an earlier one) once more.
    With `meet_within`, the calls first wait (that long at most) until all of them are running,
    so that they end at the same moment.
    """

    def __init__(self, plan: list[dict[str, Any]], meet_within: float | None = None) -> None:
        self._released = threading.Event()
        self._barrier = None if meet_within is None else threading.Barrier(len(plan), timeout=meet_within)
        errors = [getattr(builtins, step["error"])(step["message"]) if "error" in step else None
                  for step in plan]
        self.calls: list[Callable[[], Any]] = []
        for step, error in zip(plan, errors):
            self.calls.append(self.calls[step["again_of"]] if "again_of" in step else self._make_call(step, error))

    def _make_call(self, step: dict[str, Any], error: Exception | None) -> Callable[[], Any]:
        def call() -> Any:
            if self._barrier is not None:
                try:
                    self._barrier.wait()
                except threading.BrokenBarrierError:
                    pass  # a pool too small to run every call at once, or a slow machine: end anyway
            self._released.wait(step["after"])
            if step["kind"] == "raise":
                raise error  # type: ignore[misc]
            return error if step["kind"] == "return_error" else step["value"]

        return call

    def release(self) -> None:
        """End every call that is still waiting."""
        self._released.set()


def describe(thing: object) -> dict[str, Any]:
    """Plain data for a result: an int or None, an exception, or else the name of its type."""
    if isinstance(thing, BaseException):
        return {"kind": "exception", "type": type(thing).__name__, "message": str(thing)[:300]}
    if thing is None or type(thing) is int:
        return {"kind": "value", "value": thing}
    return {"kind": "other", "type": type(thing).__name__}


def _outcome(
    tasks: ModuleType, action: Callable[[], Any], convert: Callable[[Any], Any] = describe
) -> dict[str, Any]:
    """{"how": "returned", "result": ...} or {"how": "raised", "error": ...}, as plain data.

    NotImplementedError passes through, so that an untouched stub reads "not implemented yet".
    """
    try:
        result = action()
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the verdict on it is the hidden suite's
        frames = traceback.extract_tb(error.__traceback__)
        student_file = Path(tasks.__file__).resolve()
        lines = [frame.lineno for frame in frames if Path(frame.filename).resolve() == student_file]
        return {"how": "raised", "error": {
            "type": type(error).__name__, "message": str(error)[:300],
            "timeout": isinstance(error, TIMEOUT_ERRORS), "lines": lines[-3:],
            # Raised while pickling something for a worker process (the message does not always say so).
            "pickling": any(Path(frame.filename).name in PICKLING_FILES for frame in frames),
        }}
    return {"how": "returned", "result": convert(result)}


def _list_of(convert_item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(result: Any) -> Any:
        if not isinstance(result, (list, tuple)):
            return describe(result)
        return {"kind": "list", "items": [convert_item(item) for item in result]}

    return convert


# -- run_all ---------------------------------------------------------------------------------


def run_all(tasks: ModuleType, plan: list[dict[str, Any]], max_workers: int) -> dict[str, Any]:
    calls = Calls(plan)
    try:
        return _outcome(tasks, lambda: tasks.run_all(calls.calls, max_workers), _list_of(describe))
    finally:
        calls.release()


def run_all_crowd(
    tasks: ModuleType, n_calls: int, max_workers: int, patience: float, hold: float
) -> dict[str, Any]:
    """The most calls run_all() ran at the same time, and its results (call i returns i).

    The first max_workers calls to start wait (up to `patience` in all) until max_workers calls
    are running, then stay a further `hold` seconds unless one more call joins them. So a pool
    of max_workers threads is seen at exactly max_workers, a smaller one below it, and a larger
    one shows its extra call within the hold instead of depending on lucky timing.
    """
    lock = threading.Lock()
    crowded, overcrowded = threading.Event(), threading.Event()
    deadline = time.monotonic() + patience
    running = started = peak = 0

    def make_call(index: int) -> Callable[[], int]:
        def call() -> int:
            nonlocal running, started, peak
            with lock:
                running += 1
                started += 1
                in_first_crowd = started <= max_workers
                peak = max(peak, running)
                if running >= max_workers:
                    crowded.set()
                if running > max_workers:
                    overcrowded.set()
            try:
                if in_first_crowd:
                    crowded.wait(max(0.0, deadline - time.monotonic()))
                    overcrowded.wait(hold)
                return index
            finally:
                with lock:
                    running -= 1

        return call

    calls = [make_call(index) for index in range(n_calls)]
    outcome = _outcome(tasks, lambda: tasks.run_all(calls, max_workers), _list_of(describe))
    return {"peak": peak, "outcome": outcome}


# -- first_success ---------------------------------------------------------------------------


def first_success(tasks: ModuleType, plan: list[dict[str, Any]], timeout_seconds: float) -> dict[str, Any]:
    """What first_success() returned or raised; the hidden suite times the call from outside."""
    calls = Calls(plan)
    try:
        return _first_success_outcome(tasks, calls, timeout_seconds)
    finally:
        calls.release()  # only now: a first_success() that waits for the slow calls must show it


def first_success_under_preemption(
    tasks: ModuleType,
    plan: list[dict[str, Any]],
    timeout_seconds: float,
    meet_within: float,
    seeds: list[int],
) -> list[dict[str, Any]]:
    """first_success() on calls that all end at the same moment, once per forced schedule."""
    outcomes = []
    for seed in seeds:
        calls = Calls(plan, meet_within)
        with forced_interleavings([tasks], seed, rate=PREEMPTION_RATE):
            outcomes.append(_first_success_outcome(tasks, calls, timeout_seconds))
        calls.release()
    return outcomes


def _first_success_outcome(tasks: ModuleType, calls: Calls, timeout: float) -> dict[str, Any]:
    return _outcome(tasks, lambda: tasks.first_success(calls.calls, timeout))


# -- map_processes ---------------------------------------------------------------------------


def map_processes_workers(
    tasks: ModuleType, tokens: list[int], max_workers: int, patience: float
) -> dict[str, Any]:
    """map_processes() results (item i gives [tokens[i], pid]), and the pid of the calling process.

    Each item waits (up to `patience`) until a second process has started on an item too, so a
    pool of processes always shows two of them, however slowly its workers start.
    """
    meeting_place = tempfile.mkdtemp(prefix="workers-")
    items = [[meeting_place, time.time() + patience, os.getpid(), token] for token in tokens]
    try:
        outcome = _outcome(tasks, lambda: tasks.map_processes(meet_a_second_worker, items, max_workers),
                           _list_of(pair_or_none))
    finally:
        shutil.rmtree(meeting_place, ignore_errors=True)
    return {"outcome": outcome, "caller": os.getpid()}


def map_processes_of_nothing(tasks: ModuleType, max_workers: int) -> dict[str, Any]:
    """What map_processes() makes of an empty list of items."""
    return _outcome(tasks, lambda: tasks.map_processes(meet_a_second_worker, [], max_workers),
                    _list_of(pair_or_none))


def pair_or_none(item: Any) -> list[int] | None:
    if isinstance(item, (list, tuple)) and len(item) == 2 and all(type(part) is int for part in item):
        return list(item)
    return None


def meet_a_second_worker(item: list[Any]) -> list[int]:
    """Run in map_processes()'s workers: leave this process's pid, wait until two are there.

    In the calling process itself no worker process is coming, so there is nothing to wait for.
    The naps afterwards make the items finish out of order.
    """
    meeting_place, deadline, caller, token = item
    Path(meeting_place, str(os.getpid())).touch()
    while os.getpid() != caller and len(os.listdir(meeting_place)) < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep((token % 4) * 0.03)
    return [token, os.getpid()]
