"""Trusted probes for 05_queue, run in the sandbox beside the student's pool.py.

Each probe drives a ThreadPool with tasks defined here and watches it from the outside: which
thread ran each task, how many tasks ran at once, which threads are still alive. It returns
plain data for the hidden suite to judge; none of them decides a verdict.

The student's code shares this interpreter and may replace what it reaches without an audited
operation: the builtins, `threading` and `time`, this module's globals, and whatever hangs off a
task it is handed (a closure's cells, a bound method's object). So every probe takes what it
calls as keyword defaults, bound when this module is imported (before the student's module is);
the tasks keep what they count in their defaults, which only an audited read reaches (see
grader/harness/audit.py); and helper threads are started with `_thread`.
"""

from __future__ import annotations

import _thread
import builtins
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings
from student_runtime.race_story import LOST_UPDATE, OUT_OF_ORDER

HUNG = "hung"  # what _finish_within() reports for a call that did not return in time
STRANDED = "stranded"  # what _joined_unless_stranded() reports for a join() nothing can ever end

Lock = Callable[[], Any]


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def _pool(pool_module: ModuleType, n_workers: int) -> Iterator[Any]:
    """A pool that is shut down once the probe's work has succeeded. After a failure it is left
    alone, so that a broken shutdown() cannot hang and hide the failure being reported."""
    pool = pool_module.ThreadPool(n_workers)
    yield pool
    pool.shutdown()


def _plain(value: Any, *, _isinstance: Callable[..., bool] = isinstance, _base_exception: type = BaseException,
           _type: type = type, _str: type = str, _int: type = int, _bool: type = bool,
           _repr: Callable[[Any], str] = repr) -> Any:
    """One result as plain data: the str a task returned, {"exact": repr} for None, an int or a
    bool (so that False and 0 stay apart), or the exception in its place."""
    if _isinstance(value, _base_exception):
        return {"raised": _type(value).__name__, "message": _str(value)}
    if _type(value) is _str:
        return value
    if value is None or _type(value) in (_int, _bool):
        return {"exact": _repr(value)}
    return {"unexpected": f"{_type(value).__name__} {value!r}"[:120]}


def _joined(pool: Any, *, _plain: Callable[[Any], Any] = _plain, _type: type = type, _list: type = list) -> list[Any] | str:
    """pool.join() as plain data, or a description of the wrong type it returned."""
    results = pool.join()
    if _type(results) is not _list:
        return f"a {_type(results).__name__}, not a list"
    return [_plain(value) for value in results]


def _threads_started_since(before: set[threading.Thread], *,
                           _enumerate: Callable[[], list[threading.Thread]] = threading.enumerate) -> list[threading.Thread]:
    return [thread for thread in _enumerate() if thread not in before]


def _error_name(call: Callable[[], Any], *, _type: type = type) -> str | None:
    """The name of the exception call() raised, or None."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - which one it was is the answer
        return _type(error).__name__
    return None


def _held_lock(*, _lock: Lock = _thread.allocate_lock) -> Any:
    lock = _lock()
    lock.acquire()
    return lock


def _run_and_keep(work: Callable[[], Any], outcome: list[tuple[bool, Any]], done: Any) -> None:
    try:
        outcome.append((True, work()))
    except BaseException as error:  # noqa: BLE001 - re-raised in the probe's thread
        outcome.append((False, error))
    finally:
        done.release()


def _finish_within(seconds: float, work: Callable[[], Any], *, _start: Callable[..., Any] = _thread.start_new_thread,
                   _held_lock: Lock = _held_lock, _run_and_keep: Callable[..., None] = _run_and_keep,
                   _hung: str = HUNG) -> Any:
    """work() on a helper thread: its value, its exception re-raised, or HUNG after `seconds`.
    The helper is started with _thread, bound here, so no patch of threading can hold it up."""
    outcome: list[tuple[bool, Any]] = []
    done = _held_lock()
    _start(_run_and_keep, (work, outcome, done))
    done.acquire(True, seconds)
    if not outcome:
        return _hung
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


def _stranded(joining: int, before: frozenset[int], *,
              _current_frames: Callable[[], dict[int, Any]] = sys._current_frames,
              _get_ident: Callable[[], int] = _thread.get_ident,
              _wait: Any = threading.Condition.wait.__code__, _join: Any = queue.Queue.join.__code__) -> bool:
    """Whether the thread `joining` waits without a timeout in queue.Queue.join() while every
    thread started since `before` (the idents alive then) has ended: then no thread is left to
    call task_done(), and that join() never returns."""
    frames = _current_frames()
    if frames.keys() - before - {joining, _get_ident()}:
        return False
    frame = frames.get(joining)
    return (frame is not None and frame.f_code is _wait and frame.f_locals.get("timeout") is None
            and frame.f_back is not None and frame.f_back.f_code is _join)


def _joined_unless_stranded(pool: Any, before: frozenset[int], *, _start: Callable[..., Any] = _thread.start_new_thread,
                            _held_lock: Lock = _held_lock, _run_and_keep: Callable[..., None] = _run_and_keep,
                            _joined: Callable[[Any], Any] = _joined, _stranded: Callable[..., bool] = _stranded,
                            _partial: type = partial, _stranded_answer: str = STRANDED) -> Any:
    """_joined(pool) on a helper thread, or STRANDED as soon as two looks 0.1 s apart find it
    waiting in queue.Queue.join() with every thread of the pool ended (see _stranded)."""
    outcome: list[tuple[bool, Any]] = []
    done = _held_lock()
    joining = _start(_run_and_keep, (_partial(_joined, pool), outcome, done))
    looks = 0
    while not done.acquire(True, 0.1):
        looks = looks + 1 if _stranded(joining, before) else 0
        if looks == 2:
            return _stranded_answer
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


def _echo(token: Any) -> Any:
    return token


# -- results ----------------------------------------------------------------------------------


def _finishing_last(finished: list[int], calls: list[int], lock: Any, others_done: Any, join_returned: Any,
                    patience: float, linger: float, *, _len: Callable[[Any], int] = len) -> Callable[..., Any]:
    """The task of results_in_submission_order; it has no closure: its state sits in its defaults."""

    def task(index: int, *, token: Any, _finished: list[int] = finished, _calls: list[int] = calls, _lock: Any = lock,
             _others_done: Any = others_done, _join_returned: Any = join_returned, _patience: float = patience,
             _linger: float = linger, _len: Callable[[Any], int] = _len) -> Any:
        with _lock:
            _calls[index] += 1
        if index == 0:
            _others_done.wait(_patience)
            _join_returned.wait(_linger)
        with _lock:
            _finished.append(index)
            if _len(_finished) == _len(_calls) - 1:
                _others_done.set()
        return token

    return task


def results_in_submission_order(
    pool_module: ModuleType, tokens: list[str], n_workers: int, patience: float, linger: float, *,
    _pool: Callable[..., Any] = _pool, _joined: Callable[[Any], Any] = _joined,
    _finishing_last: Callable[..., Any] = _finishing_last, _lock: Lock = _thread.allocate_lock,
    _event: type = threading.Event, _enumerate: type = enumerate, _len: Callable[[Any], int] = len,
) -> dict[str, Any]:
    """One task per token, passed as a keyword argument. The first task finishes last: it waits
    (up to `patience` s) until every other task has finished, then lingers until join() has
    returned (up to `linger` s), so that a join() that does not wait for it returns without it."""
    finished: list[int] = []
    calls = [0] * _len(tokens)
    lock = _lock()
    join_returned = _event()
    task = _finishing_last(finished, calls, lock, _event(), join_returned, patience, linger)
    with _pool(pool_module, n_workers) as pool:
        for index, token in _enumerate(tokens):
            pool.submit(task, index, token=token)
        results = _joined(pool)
        join_returned.set()
        with lock:
            finished_at_join = _len(finished)
    return {"results": results, "calls": calls, "finished_at_join": finished_at_join,
            "completion_order": finished}


def batches_joined_one_by_one(pool_module: ModuleType, n_workers: int, batches: list[list[str]], *,
                              _pool: Callable[..., Any] = _pool, _joined: Callable[[Any], Any] = _joined,
                              _echo: Callable[[Any], Any] = _echo) -> list[Any]:
    """join()'s answer after each batch of tasks (a batch may be empty)."""
    answers = []
    with _pool(pool_module, n_workers) as pool:
        for batch in batches:
            for token in batch:
                pool.submit(_echo, token)
            answers.append(_joined(pool))
    return answers


def _held_up(gate: Any, patience: float) -> Callable[[], str]:
    def hold_up(*, _gate: Any = gate, _patience: float = patience) -> str:
        _gate.wait(_patience)
        return "first"

    return hold_up


def _recording(order: list[Any], *, _str: type = str) -> Callable[[Any], str]:
    """A task that notes its argument in `order` (held in its defaults, not by a bound method)."""

    def record(index: Any, *, _order: list[Any] = order, _str: type = _str) -> str:
        _order.append(index)
        return _str(index)

    return record


def run_order_of_one_worker(pool_module: ModuleType, count: int, patience: float, *,
                            _pool: Callable[..., Any] = _pool, _held_up: Callable[..., Any] = _held_up,
                            _recording: Callable[..., Any] = _recording, _event: type = threading.Event,
                            _range: type = range) -> list[int]:
    """The order in which a 1-worker pool runs `count` tasks, all queued while its worker is
    held up by a first task."""
    gate = _event()
    order: list[int] = []
    record = _recording(order)
    with _pool(pool_module, 1) as pool:
        pool.submit(_held_up(gate, patience))
        for index in _range(count):
            pool.submit(record, index)
        gate.set()
        pool.join()
    return order


def _one_batch(pool_module: ModuleType, n_workers: int, tokens: list[str], *, _pool: Callable[..., Any] = _pool,
               _joined: Callable[[Any], Any] = _joined, _echo: Callable[[Any], Any] = _echo) -> list[Any] | str:
    with _pool(pool_module, n_workers) as pool:
        for token in tokens:
            pool.submit(_echo, token)
        return _joined(pool)


def results_under_forced_interleavings(
    pool_module: ModuleType, seeds: list[int], n_workers: int, tokens: list[str], patience: float, *,
    _forced: type = forced_interleavings, _finish_within: Callable[..., Any] = _finish_within,
    _one_batch: Callable[..., Any] = _one_batch, _partial: type = partial, _hung: str = HUNG,
    _plain: Callable[[Any], Any] = _plain, _repr: Callable[[Any], str] = repr, _sorted: Callable[..., Any] = sorted,
    _type: type = type, _list: type = list, _out_of_order: tuple[str, ...] = OUT_OF_ORDER,
    _lost_update: tuple[str, ...] = LOST_UPDATE, _lost: tuple[str, ...] = (*LOST_UPDATE, "half done"),
) -> list[Any]:
    """Per forced schedule: {"result": join()'s results for one task per token, or HUNG,
    "pause": when they are wrong, what the tracer saw of the pause that best explains how (for
    the story; it decides nothing): a worker that handed its result on after one that took a
    later task, when they are all there in another order; a lost update when it hung; else that,
    or a task taken but not yet done that join() saw}. Stops at the first schedule that hangs,
    since its threads stay stuck."""
    outcomes = []
    expected = [_plain(token) for token in tokens]
    for seed in seeds:
        with _forced([pool_module], seed) as block:
            result = _finish_within(patience, _partial(_one_batch, pool_module, n_workers, tokens))
        reordered = _type(result) is _list and _sorted(_repr(value) for value in result) == _sorted(
            _repr(value) for value in expected)
        kinds = _out_of_order if reordered else _lost_update if result == _hung else _lost
        pause = None if result == expected else block.telling_pause(kinds)
        outcomes.append({"result": result, "pause": pause})
        if result == _hung:
            break
    return outcomes


# -- workers ----------------------------------------------------------------------------------


def _noting_runners(before: set[threading.Thread], ran_on: list[threading.Thread], most_alive: list[int], lock: Any, *,
                    _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
                    _current_thread: Callable[[], threading.Thread] = threading.current_thread,
                    _len: Callable[[Any], int] = len, _max: Callable[..., Any] = max) -> Callable[[], str]:
    """The task of threads_that_run_tasks: notes the thread it runs on and how many threads the
    pool has alive (in most_alive[0], the most seen). Its state sits in its defaults."""

    def task(*, _before: set[threading.Thread] = before, _ran_on: list[threading.Thread] = ran_on,
             _most_alive: list[int] = most_alive, _lock: Any = lock,
             _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
             _current_thread: Callable[[], threading.Thread] = _current_thread,
             _len: Callable[[Any], int] = _len, _max: Callable[..., Any] = _max) -> str:
        alive = _len(_threads_started_since(_before))
        with _lock:
            _ran_on.append(_current_thread())
            _most_alive[0] = _max(_most_alive[0], alive)
        return "done"

    return task


def threads_that_run_tasks(
    pool_module: ModuleType, n_workers: int, batch_sizes: list[int], *,
    _pool: Callable[..., Any] = _pool, _noting_runners: Callable[..., Any] = _noting_runners,
    _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
    _enumerate: Callable[[], list[threading.Thread]] = threading.enumerate,
    _current_thread: Callable[[], threading.Thread] = threading.current_thread, _lock: Lock = _thread.allocate_lock,
    _set: type = set, _range: type = range, _len: Callable[[Any], int] = len, _max: Callable[..., Any] = max,
) -> dict[str, Any]:
    """Which threads a pool starts in __init__ and which threads run its tasks, over batches."""
    before = _set(_enumerate())
    ran_on: list[threading.Thread] = []  # the Thread objects themselves: an ident can be reused
    most_alive = [0]
    task = _noting_runners(before, ran_on, most_alive, _lock())
    with _pool(pool_module, n_workers) as pool:
        started_in_init = _set(_threads_started_since(before))
        for size in batch_sizes:
            for _ in _range(size):
                pool.submit(task)
            pool.join()
    runners = _set(ran_on)
    return {
        "started_in_init": _len(started_in_init),
        "tasks": _len(ran_on),
        "runners": _len(runners),
        "runners_not_started_in_init": _len(runners - started_in_init),
        "ran_on_caller": _current_thread() in runners,
        "most_alive": _max(most_alive[0], _len(started_in_init)),
    }


def _blocking(counts: list[int], changed: Any, release: Any, patience: float, *,
              _max: Callable[..., Any] = max) -> Callable[[], str]:
    """The task of blocking_tasks: counts itself in counts (running now, the most at once) and
    blocks until `release` is set (or `patience` s). Its state sits in its defaults."""

    def task(*, _counts: list[int] = counts, _changed: Any = changed, _release: Any = release,
             _patience: float = patience, _max: Callable[..., Any] = _max) -> str:
        with _changed:
            _counts[0] += 1
            _counts[1] = _max(_counts[1], _counts[0])
            _changed.notify_all()
        _release.wait(_patience)
        with _changed:
            _counts[0] -= 1
        return "done"

    return task


def blocking_tasks(
    pool_module: ModuleType, n_workers: int, count: int, patience: float, settle: float, *,
    _pool: Callable[..., Any] = _pool, _joined: Callable[[Any], Any] = _joined, _blocking: Callable[..., Any] = _blocking,
    _condition: type = threading.Condition, _event: type = threading.Event, _range: type = range,
) -> dict[str, Any]:
    """The most tasks running at once when every task blocks until it is released.

    Releases them once n_workers are running (or after `patience` s) and `settle` more
    seconds have given a pool that runs too many at once the time to show it."""
    changed = _condition()
    release = _event()
    counts = [0, 0]  # running now, the most at once
    task = _blocking(counts, changed, release, patience)
    with _pool(pool_module, n_workers) as pool:
        for _ in _range(count):
            pool.submit(task)
        with changed:
            changed.wait_for(lambda: counts[0] >= n_workers, patience)
            changed.wait_for(lambda: counts[0] > n_workers, settle)
            peak_while_blocked = counts[1]
        release.set()
        results = _joined(pool)
    return {"peak_while_blocked": peak_while_blocked, "peak": counts[1], "results": results}


# The pools left idle between start_idle_pool() and stop_idle_pool(), reachable only through the
# defaults below: the module's name for the list is deleted once they are bound.
_IDLE_POOLS: list[Any] = []


def start_idle_pool(pool_module: ModuleType, n_workers: int, warm_up_tasks: int, *,
                    _idle_pools: list[Any] = _IDLE_POOLS, _echo: Callable[[Any], Any] = _echo,
                    _range: type = range, _str: type = str) -> None:
    """Start a pool, let it run a few tasks and leave it idle."""
    pool = pool_module.ThreadPool(n_workers)
    _idle_pools.append(pool)
    for index in _range(warm_up_tasks):
        pool.submit(_echo, _str(index))
    pool.join()


def idle(pool_module: ModuleType, seconds: float, *, _sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait `seconds` without using the CPU while the idle pool's workers wait for tasks: the
    grader reads how much CPU time the process used meanwhile from the kernel."""
    _sleep(seconds)


def stop_idle_pool(pool_module: ModuleType, *, _idle_pools: list[Any] = _IDLE_POOLS) -> None:
    _idle_pools.pop().shutdown()


del _IDLE_POOLS


# -- errors -----------------------------------------------------------------------------------


def _planned(step: list[str], *,
             _builtin: Callable[[str], Any] = dict(vars(builtins)).get) -> str:  # noqa: B008 - a snapshot at import
    """Return the token of ["return", token]; raise the builtin exception ["raise", name, message]
    (the builtins as they were before the student's import)."""
    if step[0] == "raise":
        raise _builtin(step[1])(step[2])
    return step[1]


def failing_tasks(pool_module: ModuleType, n_workers: int, plan: list[list[str]], then: list[str], *,
                  _pool: Callable[..., Any] = _pool, _joined: Callable[..., Any] = _joined_unless_stranded,
                  _planned: Callable[..., str] = _planned, _echo: Callable[[Any], Any] = _echo,
                  _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
                  _enumerate: Callable[[], list[threading.Thread]] = threading.enumerate, _set: type = set,
                  _current_frames: Callable[[], dict[int, Any]] = sys._current_frames,
                  _frozenset: type = frozenset, _len: Callable[[Any], int] = len,
                  _stranded: str = STRANDED) -> dict[str, Any]:
    """join() after a batch in which some tasks raise, and after a second batch of tokens; or
    {"stranded": the batch} as soon as a join() waits for tasks that no thread is left to run."""
    before = _set(_enumerate())
    idents_before = _frozenset(_current_frames())
    with _pool(pool_module, n_workers) as pool:
        for step in plan:
            pool.submit(_planned, step)
        first = _joined(pool, idents_before)
        if first == _stranded:
            return {"stranded": "first"}
        for token in then:
            pool.submit(_echo, token)
        second = _joined(pool, idents_before)
        if second == _stranded:
            return {"stranded": "second"}
        alive = _len(_threads_started_since(before))
    return {"first": first, "second": second, "alive": alive}


def construct(pool_module: ModuleType, n_workers: int, *, _error_name: Callable[..., Any] = _error_name) -> str | None:
    """The name of the exception ThreadPool(n_workers) raised, or None."""
    return _error_name(lambda: pool_module.ThreadPool(n_workers))


# -- shutdown ---------------------------------------------------------------------------------


def _noting_its_end(finished: list[int], answer: str, release: Any = None, wait: float = 0.0) -> Callable[[int], str]:
    """A task that waits for `release` (up to `wait` s) if given, notes its index in `finished`
    and returns `answer`. Its state sits in its defaults."""

    def task(index: int, *, _finished: list[int] = finished, _answer: str = answer, _release: Any = release,
             _wait: float = wait) -> str:
        if _release is not None:
            _release.wait(_wait)
        _finished.append(index)
        return _answer

    return task


def _set_after(seconds: float, event: Any, done: Any, *, _sleep: Callable[[float], None] = time.sleep) -> None:
    try:
        _sleep(seconds)
        event.set()
    finally:
        done.release()


def shutdown_while_busy(
    pool_module: ModuleType, n_workers: int, queued: int, busy_seconds: float, *,
    _noting_its_end: Callable[..., Any] = _noting_its_end, _set_after: Callable[..., None] = _set_after,
    _start: Callable[..., Any] = _thread.start_new_thread, _held_lock: Lock = _held_lock,
    _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
    _enumerate: Callable[[], list[threading.Thread]] = threading.enumerate, _event: type = threading.Event,
    _set: type = set, _range: type = range, _len: Callable[[Any], int] = len,
) -> dict[str, Any]:
    """Call shutdown() while every worker is busy for `busy_seconds` more and `queued` tasks
    wait in the queue; report what had happened by the time it returned."""
    before = _set(_enumerate())
    pool = pool_module.ThreadPool(n_workers)
    busy_until = _event()
    finished: list[int] = []
    # released by the timer; the timeout is a safety net
    busy = _noting_its_end(finished, "busy", busy_until, busy_seconds * 10)
    quick = _noting_its_end(finished, "quick")
    for index in _range(n_workers):
        pool.submit(busy, index)
    for index in _range(n_workers, n_workers + queued):
        pool.submit(quick, index)
    timer_done = _held_lock()
    timer = _start(_set_after, (busy_seconds, busy_until, timer_done))
    pool.shutdown()
    still_alive = [thread.name for thread in _threads_started_since(before) if thread.ident != timer]
    outcome = {"finished": _len(finished), "still_alive": still_alive}
    timer_done.acquire()
    return outcome


class _LeftTheBlock(Exception):
    pass


def _recording_tokens(ran: list[str]) -> Callable[[str], None]:
    """A task that notes its token in `ran` (held in its defaults: a bound ran.append would hand
    the pool the list itself)."""

    def record(token: str, *, _ran: list[str] = ran) -> None:
        _ran.append(token)

    return record


def shutdown_contract(
    pool_module: ModuleType, n_workers: int, tokens: list[str], *,
    _recording_tokens: Callable[..., Any] = _recording_tokens, _error_name: Callable[..., Any] = _error_name,
    _threads_started_since: Callable[..., list[threading.Thread]] = _threads_started_since,
    _enumerate: Callable[[], list[threading.Thread]] = threading.enumerate, _left_the_block: type = _LeftTheBlock,
    _set: type = set, _type: type = type, _len: Callable[[Any], int] = len,
) -> dict[str, Any]:
    """The with-statement, a second shutdown(), a submit() after shutdown(), and an exception
    raised inside a with-block."""
    before = _set(_enumerate())
    ran: list[str] = []
    record = _recording_tokens(ran)
    pool = pool_module.ThreadPool(n_workers)
    with pool as entered:
        for token in tokens:
            pool.submit(record, token)
    facts: dict[str, Any] = {
        "enter_returned": "the pool" if entered is pool else f"{_type(entered).__name__} {entered!r}"[:80],
        "ran_in_block": _len(ran),
        "alive_after_block": _len(_threads_started_since(before)),
        "second_shutdown": _error_name(pool.shutdown),
        "submit_after_shutdown": _error_name(lambda: pool.submit(record, "late")),
    }
    try:
        with pool_module.ThreadPool(n_workers) as failing:
            failing.submit(record, "doomed block")
            raise _left_the_block
    except _left_the_block:
        facts["exception_propagated"] = True
    else:
        facts["exception_propagated"] = False
    facts["alive_after_failed_block"] = _len(_threads_started_since(before))
    return facts
