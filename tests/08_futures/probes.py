"""Trusted probes for 08_futures, run in the sandbox beside the student's tasks.py.

The hidden suite describes each call it wants as plain data (a plan: when the call ends and
whether it returns a value, raises, or returns an exception object); `Calls` turns a plan into
real callables here, and every probe reports what the student's function made of them as
plain data again. Slow calls wait on an event instead of sleeping, so that once the student's
function has returned they can be let go at once instead of lingering for seconds.

`meet_a_second_worker` is what `map_processes` sends to its worker processes: they import this
module by name to find it.

The student's code shares this interpreter and may replace what it reaches without an audited
operation: the builtins, `threading`, `time` and `os`, this module's globals, and whatever hangs
off a callable it is handed (a closure's cells). So every probe takes what it calls as keyword
defaults, bound when this module is imported (before the student's module is), and the calls
handed to the student keep their state in their defaults, which only an audited read reaches
(see grader/harness/audit.py).
"""

from __future__ import annotations

import _thread
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

from student_runtime.preempt import forced_interleavings

# On Python 3.10 concurrent.futures.TimeoutError is not yet the builtin one; both keep the contract.
TIMEOUT_ERRORS = (TimeoutError, concurrent.futures.TimeoutError)
# Where multiprocessing and pickle serialize what goes to a worker process.
PICKLING_FILES = {"reduction.py", "pickle.py", "copyreg.py"}
# Each thread of a first_success() ends only once per schedule, not in a loop of thousands of
# updates, so its few opcodes of bookkeeping are preempted more often than preempt's default:
# an unlocked count of finished calls then loses an update in about 9 schedules out of 10.
PREEMPTION_RATE = 0.3


def _planned_call(step: dict[str, Any], error: Exception | None, released: Any, barrier: Any, *,
                  _broken: type = threading.BrokenBarrierError) -> Callable[[], Any]:
    """One call of a plan (see Calls). It has no closure: what it needs sits in its defaults."""

    def call(*, _step: dict[str, Any] = step, _error: Exception | None = error, _released: Any = released,
             _barrier: Any = barrier, _broken: type = _broken) -> Any:
        if _barrier is not None:
            try:
                _barrier.wait()
            except _broken:
                pass  # a pool too small to run every call at once, or a slow machine: end anyway
        _released.wait(_step["after"])
        if _step["kind"] == "raise":
            raise _error  # type: ignore[misc]
        return _error if _step["kind"] == "return_error" else _step["value"]

    return call


class Calls:
    """Trusted callables built from a plan.

    Each step of the plan is {"after": seconds, "kind": "value", "value": int or None} or
    {"after": seconds, "kind": "raise" | "return_error", "error": builtin type name, "message": str}.
    A step with "again_of": j stands for the very callable of step j (an earlier one) once more.
    With `meet_within`, the calls first wait (that long at most) until all of them are running,
    so that they end at the same moment. The student gets `calls`, never this object.
    """

    def __init__(self, plan: list[dict[str, Any]], meet_within: float | None = None, *,
                 _event: type = threading.Event, _barrier: type = threading.Barrier,
                 _builtin: Callable[[str], Any] = dict(vars(builtins)).get,  # noqa: B008 - a snapshot at import
                 _planned_call: Callable[..., Any] = _planned_call,
                 _zip: type = zip, _len: Callable[[Any], int] = len) -> None:
        self._released = _event()
        barrier = None if meet_within is None else _barrier(_len(plan), timeout=meet_within)
        errors = [_builtin(step["error"])(step["message"]) if "error" in step else None for step in plan]
        self.calls: list[Callable[[], Any]] = []
        for step, error in _zip(plan, errors):
            self.calls.append(self.calls[step["again_of"]] if "again_of" in step
                              else _planned_call(step, error, self._released, barrier))

    def release(self) -> None:
        """End every call that is still waiting."""
        self._released.set()


def describe(thing: object, *, _isinstance: Callable[..., bool] = isinstance, _base_exception: type = BaseException,
             _type: type = type, _int: type = int, _str: type = str) -> dict[str, Any]:
    """Plain data for a result: an int or None, an exception, or else the name of its type."""
    if _isinstance(thing, _base_exception):
        return {"kind": "exception", "type": _type(thing).__name__, "message": _str(thing)[:300]}
    if thing is None or _type(thing) is _int:
        return {"kind": "value", "value": thing}
    return {"kind": "other", "type": _type(thing).__name__}


def _outcome(
    tasks: ModuleType, action: Callable[[], Any], convert: Callable[[Any], Any] = describe, *,
    _extract_tb: Callable[..., Any] = traceback.extract_tb, _path: type = Path, _type: type = type, _str: type = str,
    _isinstance: Callable[..., bool] = isinstance, _any: Callable[..., bool] = any,
    _timeout_errors: tuple[type, ...] = TIMEOUT_ERRORS, _pickling_files: frozenset[str] = frozenset(PICKLING_FILES),
) -> dict[str, Any]:
    """{"how": "returned", "result": ...} or {"how": "raised", "error": ...}, as plain data.

    NotImplementedError passes through, so that an untouched stub reads "not implemented yet".
    """
    try:
        result = action()
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - the verdict on it is the hidden suite's
        frames = _extract_tb(error.__traceback__)
        student_file = _path(tasks.__file__).resolve()
        lines = [frame.lineno for frame in frames if _path(frame.filename).resolve() == student_file]
        return {"how": "raised", "error": {
            "type": _type(error).__name__, "message": _str(error)[:300],
            "timeout": _isinstance(error, _timeout_errors), "lines": lines[-3:],
            # Raised while pickling something for a worker process (the message does not always say so).
            "pickling": _any(_path(frame.filename).name in _pickling_files for frame in frames),
        }}
    return {"how": "returned", "result": convert(result)}


def _list_of(convert_item: Callable[[Any], Any], *, _isinstance: Callable[..., bool] = isinstance,
             _sequences: tuple[type, ...] = (list, tuple), _describe: Callable[[Any], Any] = describe) -> Callable[[Any], Any]:
    def convert(result: Any, *, _convert_item: Callable[[Any], Any] = convert_item,
                _isinstance: Callable[..., bool] = _isinstance, _sequences: tuple[type, ...] = _sequences,
                _describe: Callable[[Any], Any] = _describe) -> Any:
        if not _isinstance(result, _sequences):
            return _describe(result)
        return {"kind": "list", "items": [_convert_item(item) for item in result]}

    return convert


# -- run_all ---------------------------------------------------------------------------------


def run_all(tasks: ModuleType, plan: list[dict[str, Any]], max_workers: int, *, _calls: type = Calls,
            _outcome: Callable[..., Any] = _outcome, _list_of: Callable[..., Any] = _list_of,
            _describe: Callable[[Any], Any] = describe) -> dict[str, Any]:
    calls = _calls(plan)
    try:
        return _outcome(tasks, lambda: tasks.run_all(calls.calls, max_workers), _list_of(_describe))
    finally:
        calls.release()


def _crowding(index: int, counts: list[int], lock: Any, crowded: Any, overcrowded: Any, max_workers: int,
              deadline: float, hold: float, *, _monotonic: Callable[[], float] = time.monotonic,
              _max: Callable[..., Any] = max) -> Callable[[], int]:
    """Call `index` of run_all_crowd, counting itself in `counts` (running, started, the most at
    once). It has no closure: its state sits in its defaults."""

    def call(*, _index: int = index, _counts: list[int] = counts, _lock: Any = lock, _crowded: Any = crowded,
             _overcrowded: Any = overcrowded, _max_workers: int = max_workers, _deadline: float = deadline,
             _hold: float = hold, _monotonic: Callable[[], float] = _monotonic,
             _max: Callable[..., Any] = _max) -> int:
        with _lock:
            _counts[0] += 1
            _counts[1] += 1
            in_first_crowd = _counts[1] <= _max_workers
            _counts[2] = _max(_counts[2], _counts[0])
            if _counts[0] >= _max_workers:
                _crowded.set()
            if _counts[0] > _max_workers:
                _overcrowded.set()
        try:
            if in_first_crowd:
                _crowded.wait(_max(0.0, _deadline - _monotonic()))
                _overcrowded.wait(_hold)
            return _index
        finally:
            with _lock:
                _counts[0] -= 1

    return call


def run_all_crowd(
    tasks: ModuleType, n_calls: int, max_workers: int, patience: float, hold: float, *,
    _crowding: Callable[..., Any] = _crowding, _outcome: Callable[..., Any] = _outcome,
    _list_of: Callable[..., Any] = _list_of, _describe: Callable[[Any], Any] = describe,
    _lock: Callable[[], Any] = _thread.allocate_lock, _event: type = threading.Event,
    _monotonic: Callable[[], float] = time.monotonic, _range: type = range,
) -> dict[str, Any]:
    """The most calls run_all() ran at the same time, and its results (call i returns i).

    The first max_workers calls to start wait (up to `patience` in all) until max_workers calls
    are running, then stay a further `hold` seconds unless one more call joins them. So a pool
    of max_workers threads is seen at exactly max_workers, a smaller one below it, and a larger
    one shows its extra call within the hold instead of depending on lucky timing.
    """
    counts = [0, 0, 0]  # running, started, the most at once
    lock, crowded, overcrowded = _lock(), _event(), _event()
    deadline = _monotonic() + patience
    calls = [_crowding(index, counts, lock, crowded, overcrowded, max_workers, deadline, hold)
             for index in _range(n_calls)]
    outcome = _outcome(tasks, lambda: tasks.run_all(calls, max_workers), _list_of(_describe))
    return {"peak": counts[2], "outcome": outcome}


# -- first_success ---------------------------------------------------------------------------


def _first_success_outcome(tasks: ModuleType, calls: Calls, timeout: float, *,
                           _outcome: Callable[..., Any] = _outcome) -> dict[str, Any]:
    return _outcome(tasks, lambda: tasks.first_success(calls.calls, timeout))


def first_success(tasks: ModuleType, plan: list[dict[str, Any]], timeout_seconds: float, *, _calls: type = Calls,
                  _first_success_outcome: Callable[..., Any] = _first_success_outcome) -> dict[str, Any]:
    """What first_success() returned or raised; the hidden suite times the call from outside."""
    calls = _calls(plan)
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
    *,
    _forced: type = forced_interleavings, _calls: type = Calls,
    _first_success_outcome: Callable[..., Any] = _first_success_outcome, _rate: float = PREEMPTION_RATE,
) -> list[dict[str, Any]]:
    """first_success() on calls that all end at the same moment, once per forced schedule, each
    outcome with what the tracer saw of the pause that best explains a lost update ("pause": for
    the story of a failure; it decides nothing)."""
    outcomes = []
    for seed in seeds:
        calls = _calls(plan, meet_within)
        with _forced([tasks], seed, rate=_rate) as block:
            outcome = _first_success_outcome(tasks, calls, timeout_seconds)
        outcomes.append({**outcome, "pause": block.telling_pause()})
        calls.release()
    return outcomes


# -- map_processes ---------------------------------------------------------------------------


def pair_or_none(item: Any, *, _isinstance: Callable[..., bool] = isinstance, _sequences: tuple[type, ...] = (list, tuple),
                 _len: Callable[[Any], int] = len, _all: Callable[..., bool] = all, _type: type = type,
                 _int: type = int, _list: type = list) -> list[int] | None:
    if _isinstance(item, _sequences) and _len(item) == 2 and _all(_type(part) is _int for part in item):
        return _list(item)
    return None


def meet_a_second_worker(item: list[Any], *, _getpid: Callable[[], int] = os.getpid, _path: type = Path,
                         _str: type = str, _listdir: Callable[[str], list[str]] = os.listdir,
                         _len: Callable[[Any], int] = len, _time: Callable[[], float] = time.time,
                         _sleep: Callable[[float], None] = time.sleep) -> list[int]:
    """Run in map_processes()'s workers: leave this process's pid, wait until two are there.

    In the calling process itself no worker process is coming, so there is nothing to wait for.
    The naps afterwards make the items finish out of order.
    """
    meeting_place, deadline, caller, token = item
    _path(meeting_place, _str(_getpid())).touch()
    while _getpid() != caller and _len(_listdir(meeting_place)) < 2 and _time() < deadline:
        _sleep(0.01)
    _sleep((token % 4) * 0.03)
    return [token, _getpid()]


def map_processes_workers(
    tasks: ModuleType, tokens: list[int], max_workers: int, patience: float, *,
    _outcome: Callable[..., Any] = _outcome, _list_of: Callable[..., Any] = _list_of,
    _pair_or_none: Callable[[Any], Any] = pair_or_none, _meet: Callable[..., Any] = meet_a_second_worker,
    _mkdtemp: Callable[..., str] = tempfile.mkdtemp, _rmtree: Callable[..., None] = shutil.rmtree,
    _time: Callable[[], float] = time.time, _getpid: Callable[[], int] = os.getpid,
) -> dict[str, Any]:
    """map_processes() results (item i gives [tokens[i], pid]), and the pid of the calling process.

    Each item waits (up to `patience`) until a second process has started on an item too, so a
    pool of processes always shows two of them, however slowly its workers start.
    """
    meeting_place = _mkdtemp(prefix="workers-")
    items = [[meeting_place, _time() + patience, _getpid(), token] for token in tokens]
    try:
        outcome = _outcome(tasks, lambda: tasks.map_processes(_meet, items, max_workers), _list_of(_pair_or_none))
    finally:
        _rmtree(meeting_place, ignore_errors=True)
    return {"outcome": outcome, "caller": _getpid()}


def map_processes_of_nothing(tasks: ModuleType, max_workers: int, *, _outcome: Callable[..., Any] = _outcome,
                             _list_of: Callable[..., Any] = _list_of, _pair_or_none: Callable[[Any], Any] = pair_or_none,
                             _meet: Callable[..., Any] = meet_a_second_worker) -> dict[str, Any]:
    """What map_processes() makes of an empty list of items."""
    return _outcome(tasks, lambda: tasks.map_processes(_meet, [], max_workers), _list_of(_pair_or_none))
