"""Trusted probes for 01_race_condition, run in the sandbox beside the student's counter.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict.

The student's code shares this interpreter and may read or replace whatever it reaches without
an audited operation: this module's globals, the builtins, closures, attributes. So every probe
takes what it calls as keyword defaults, bound when this module is imported (before the
student's module is), and keeps its state in defaults and frames, which only audited reads
reach (see grader/harness/audit.py). In particular the race checks' totals follow from seeds
that only their threads' defaults hold: each thread draws its increments live, in its own frame.
"""

from __future__ import annotations

import _random
import _thread
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings
from grader.harness.watchers import gathering


def _plain(value: Any, *, _type: type = type, _int: type = int) -> Any:
    """The value itself when it is an int; otherwise a description the suite can show."""
    return value if _type(value) is _int else f"{_type(value).__name__} {value!r:.60}"


def plan(seed: int, count: int, *, _generator: Callable[[int], Any] = _random.Random, _int: type = int,
         _range: type = range, _len: Callable[[Any], int] = len) -> Iterator[int | None]:
    """The `count` increments drawn from `seed`, one at a time: an amount, or None for increment()
    without one. Every block of twelve holds the amounts a mistake trips on (no amount, 1, 0, -1,
    another negative, a larger one) among small ones, in random order.

    A race check's thread makes them as they come; the hidden suite adds them up for the total it
    expects. (The C generator, whose methods no patch reaches, gives the same numbers here and there.)
    """
    draw = _generator(seed).random

    def between(low: int, high: int) -> int:
        return low + _int(draw() * (high - low + 1))

    made = 0
    while made < count:
        block = [None, None, 1, 0, -1, -between(2, 9), between(10, 99), *[between(2, 9) for _ in _range(5)]]
        for index in _range(_len(block) - 1, 0, -1):  # Fisher-Yates: every order equally likely
            other = between(0, index)
            block[index], block[other] = block[other], block[index]
        yield from block[:count - made]
        made += _len(block)


def single_thread_values(counter: ModuleType, amounts: list[int | None], *, _plain: Callable[[Any], Any] = _plain,
                         _repr: Callable[[Any], str] = repr, _type: type = type, _str: type = str) -> dict[str, Any]:
    """The value after construction and after each increment on one thread (an amount of
    None calls increment() without one), or what the first failing call raised."""
    shared = counter.Counter()
    values = [_plain(shared.value)]
    for amount in amounts:
        try:
            if amount is None:
                shared.increment()
            else:
                shared.increment(amount)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - the hidden suite phrases the verdict
            return {"values": values, "raised": f"{_type(error).__name__}({_repr(_str(error)[:200])})"}
        values.append(_plain(shared.value))
    return {"values": values, "raised": None}


def count_in_threads(counter: ModuleType, n_threads: int, increments: int) -> Any:
    return counter.count_in_threads(n_threads, increments)


def _increments(shared: Any, seed: int, count: int, *, _plan: Callable[..., Iterator[int | None]] = plan) -> Callable[[], None]:
    """One thread's work: the increments of plan(seed, count) on `shared`. It has no closure: what
    it needs sits in its defaults, and the drawn amounts in its own frame."""

    def work(_shared: Any = shared, _seed: int = seed, _count: int = count,
             _plan: Callable[..., Iterator[int | None]] = _plan) -> None:
        for amount in _plan(_seed, _count):
            if amount is None:
                _shared.increment()
            else:
                _shared.increment(amount)

    return work


def _finish(work: Callable[[], None], finished: Any, errors: list[BaseException]) -> None:
    try:
        work()
    except BaseException as error:  # noqa: BLE001 - re-raised by the probe's own thread
        errors.append(error)
    finally:
        finished.release()


def _run_together(works: list[Callable[[], None]], *, _start: Callable[..., Any] = _thread.start_new_thread,
                  _lock: Callable[[], Any] = _thread.allocate_lock,
                  _finish: Callable[..., None] = _finish) -> None:
    """Run each work in a thread of its own, all at once; return when all have ended, raising the
    first error. Started with _thread, bound here, so that no patch of threading.Thread can run
    them one after another."""
    errors: list[BaseException] = []
    finished = []
    for work in works:
        done = _lock()
        done.acquire()
        _start(_finish, (work, done, errors))
        finished.append(done)
    for done in finished:
        done.acquire()
    if errors:
        raise errors[0]


def shared_counter_under_preemption(
    counter: ModuleType, seeds: list[int], plans: list[list[int]], *,
    _forced: type = forced_interleavings, _run_together: Callable[..., None] = _run_together,
    _increments: Callable[..., Callable[[], None]] = _increments, _plain: Callable[[Any], Any] = _plain,
) -> list[Any]:
    """Per forced schedule, one shared Counter's final value after one trusted thread per
    [seed, count] of `plans` made the increments of plan(seed, count) on it, and what the tracer
    saw of the pause that lost an update (for the story; it decides nothing)."""
    finals = []
    for seed in seeds:
        shared = counter.Counter()
        with _forced([counter], seed) as block:
            _run_together([_increments(shared, *thread_plan) for thread_plan in plans])
        finals.append({"value": _plain(shared.value), "pause": block.telling_pause()})
    return finals


def _feeding(original: Callable[..., Any], amounts: Iterator[int | None], lock: Any, calls: list[Any], *,
             _next: Callable[..., Any] = next) -> Callable[..., None]:
    """Counter.increment for one schedule: each call, whatever it was given, adds the next of
    `amounts` (past the last one, the default) and is noted in `calls`."""

    def increment(self: Any, *_given: Any, _original: Callable[..., Any] = original,
                  _amounts: Iterator[int | None] = amounts, _lock: Any = lock, _calls: list[Any] = calls,
                  _next: Callable[..., Any] = _next, **_named: Any) -> None:
        with _lock:  # one generator, shared by the student's threads
            amount = _next(_amounts, None)
            _calls.append(self)
        if amount is None:
            _original(self)
        else:
            _original(self, amount)

    return increment


def count_in_threads_under_preemption(
    counter: ModuleType, seeds: list[int], n_threads: int, increments: int, plan_seed: int, *,
    _forced: type = forced_interleavings, _plan: Callable[..., Iterator[int | None]] = plan,
    _feeding: Callable[..., Callable[..., None]] = _feeding, _lock: Callable[[], Any] = _thread.allocate_lock,
    _plain: Callable[[Any], Any] = _plain, _len: Callable[[Any], int] = len, _id: Callable[[Any], int] = id,
) -> list[dict[str, Any]]:
    """The student's own count_in_threads(n_threads, increments), per forced schedule.

    It may know that it makes n_threads * increments calls; what they add up to it learns only by
    counting: each Counter.increment() call adds the next amount of plan(plan_seed, n_threads *
    increments) instead of what it was given. Reports what count_in_threads returned, how many
    calls Counter.increment() got, the final value of each Counter they went to, and what the
    tracer saw of the pause that lost an update (for the story; it decides nothing).
    """
    cls = counter.Counter
    original = cls.increment
    reports = []
    for seed in seeds:
        calls: list[Any] = []
        cls.increment = _feeding(original, _plan(plan_seed, n_threads * increments), _lock(), calls)
        try:
            with _forced([counter], seed) as block:
                returned = counter.count_in_threads(n_threads, increments)
        finally:
            cls.increment = original
        counters = {_id(instance): instance for instance in calls}
        reports.append({"returned": _plain(returned), "calls": _len(calls),
                        "values": [_plain(instance.value) for instance in counters.values()],
                        "pause": block.telling_pause()})
    return reports



def thread_overlap(
    counter: ModuleType, n_threads: int, increments: int, patience: float, *,
    _gathering: Callable[..., Callable[..., Any]] = gathering, _lock: Callable[[], Any] = _thread.allocate_lock,
    _event: type = threading.Event, _monotonic: Callable[[], float] = time.monotonic,
    _plain: Callable[[Any], Any] = _plain, _len: Callable[[Any], int] = len, _set: type = set,
) -> dict[str, Any]:
    """How many of count_in_threads()'s threads are inside increment() at the same time.

    Each thread's first increment() waits (up to `patience` seconds in all) until every
    thread has arrived. Threads that run at once are then all inside together; threads
    started and joined one after another come in one at a time.
    """
    cls = counter.Counter
    original = cls.increment
    arrived: set[Any] = _set()  # the kernel's ids of the threads (see gathering)
    counts = [0, 0]  # inside now, the most at once
    cls.increment = _gathering(original, n_threads, _monotonic() + patience, _lock(), arrived, counts, _event())
    try:
        total = counter.count_in_threads(n_threads, increments)
    finally:
        cls.increment = original
    return {"total": _plain(total), "peak": counts[1], "threads": _len(arrived)}
