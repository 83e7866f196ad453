"""Trusted probes for 05_queue, run in the sandbox beside the student's pool.py.

Each probe drives a ThreadPool with tasks defined here and watches it from the outside: which
thread ran each task, how many tasks ran at once, which threads are still alive. It returns
plain data for the hidden suite to judge; none of them decides a verdict.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings

HUNG = "hung"  # what _finish_within() reports for a call that did not return in time


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def _pool(pool_module: ModuleType, n_workers: int) -> Iterator[Any]:
    """A pool that is shut down once the probe's work has succeeded. After a failure it is left
    alone, so that a broken shutdown() cannot hang and hide the failure being reported."""
    pool = pool_module.ThreadPool(n_workers)
    yield pool
    pool.shutdown()


def _plain(value: Any) -> Any:
    """One result as plain data: the str a task returned, {"exact": repr} for None, an int or a
    bool (so that False and 0 stay apart), or the exception in its place."""
    if isinstance(value, BaseException):
        return {"raised": type(value).__name__, "message": str(value)}
    if type(value) is str:
        return value
    if value is None or type(value) in (int, bool):
        return {"exact": repr(value)}
    return {"unexpected": f"{type(value).__name__} {value!r}"[:120]}


def _joined(pool: Any) -> list[Any] | str:
    """pool.join() as plain data, or a description of the wrong type it returned."""
    results = pool.join()
    if type(results) is not list:
        return f"a {type(results).__name__}, not a list"
    return [_plain(value) for value in results]


def _threads_started_since(before: set[threading.Thread]) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread not in before]


def _error_name(call: Callable[[], Any]) -> str | None:
    """The name of the exception call() raised, or None."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - which one it was is the answer
        return type(error).__name__
    return None


def _finish_within(seconds: float, work: Callable[[], Any]) -> Any:
    """work() on a helper thread: its value, its exception re-raised, or HUNG after `seconds`."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - re-raised in the probe's thread
            outcome.append((False, error))

    helper = threading.Thread(target=run, daemon=True)
    helper.start()
    helper.join(seconds)
    if not outcome:
        return HUNG
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


def _echo(token: Any) -> Any:
    return token


# -- results ----------------------------------------------------------------------------------


def results_in_submission_order(
    pool_module: ModuleType, tokens: list[str], n_workers: int, patience: float, linger: float
) -> dict[str, Any]:
    """One task per token, passed as a keyword argument. The first task finishes last: it waits
    (up to `patience` s) until every other task has finished, then lingers until join() has
    returned (up to `linger` s), so that a join() that does not wait for it returns without it."""
    finished: list[int] = []
    calls = [0] * len(tokens)
    lock = threading.Lock()
    others_done, join_returned = threading.Event(), threading.Event()

    def task(index: int, *, token: Any) -> Any:
        with lock:
            calls[index] += 1
        if index == 0:
            others_done.wait(patience)
            join_returned.wait(linger)
        with lock:
            finished.append(index)
            if len(finished) == len(tokens) - 1:
                others_done.set()
        return token

    with _pool(pool_module, n_workers) as pool:
        for index, token in enumerate(tokens):
            pool.submit(task, index, token=token)
        results = _joined(pool)
        join_returned.set()
        with lock:
            finished_at_join = len(finished)
    return {"results": results, "calls": calls, "finished_at_join": finished_at_join,
            "completion_order": finished}


def batches_joined_one_by_one(pool_module: ModuleType, n_workers: int, batches: list[list[str]]) -> list[Any]:
    """join()'s answer after each batch of tasks (a batch may be empty)."""
    answers = []
    with _pool(pool_module, n_workers) as pool:
        for batch in batches:
            for token in batch:
                pool.submit(_echo, token)
            answers.append(_joined(pool))
    return answers


def run_order_of_one_worker(pool_module: ModuleType, count: int, patience: float) -> list[int]:
    """The order in which a 1-worker pool runs `count` tasks, all queued while its worker is
    held up by a first task."""
    gate = threading.Event()
    order: list[int] = []

    def hold_up() -> str:
        gate.wait(patience)
        return "first"

    def record(index: int) -> str:
        order.append(index)
        return str(index)

    with _pool(pool_module, 1) as pool:
        pool.submit(hold_up)
        for index in range(count):
            pool.submit(record, index)
        gate.set()
        pool.join()
    return order


def results_under_forced_interleavings(
    pool_module: ModuleType, seeds: list[int], n_workers: int, tokens: list[str], patience: float
) -> list[Any]:
    """Per forced schedule: join()'s results for one task per token, or HUNG. Stops at the
    first schedule that hangs, since its threads stay stuck."""

    def one_batch() -> list[Any] | str:
        with _pool(pool_module, n_workers) as pool:
            for token in tokens:
                pool.submit(_echo, token)
            return _joined(pool)

    outcomes = []
    for seed in seeds:
        with forced_interleavings([pool_module], seed):
            outcomes.append(_finish_within(patience, one_batch))
        if outcomes[-1] == HUNG:
            break
    return outcomes


# -- workers ----------------------------------------------------------------------------------


def threads_that_run_tasks(pool_module: ModuleType, n_workers: int, batch_sizes: list[int]) -> dict[str, Any]:
    """Which threads a pool starts in __init__ and which threads run its tasks, over batches."""
    before = set(threading.enumerate())
    ran_on: list[threading.Thread] = []  # the Thread objects themselves: an ident can be reused
    most_alive = 0
    lock = threading.Lock()

    def task() -> str:
        nonlocal most_alive
        alive = len(_threads_started_since(before))
        with lock:
            ran_on.append(threading.current_thread())
            most_alive = max(most_alive, alive)
        return "done"

    with _pool(pool_module, n_workers) as pool:
        started_in_init = set(_threads_started_since(before))
        for size in batch_sizes:
            for _ in range(size):
                pool.submit(task)
            pool.join()
    runners = set(ran_on)
    return {
        "started_in_init": len(started_in_init),
        "tasks": len(ran_on),
        "runners": len(runners),
        "runners_not_started_in_init": len(runners - started_in_init),
        "ran_on_caller": threading.current_thread() in runners,
        "most_alive": max(most_alive, len(started_in_init)),
    }


def blocking_tasks(
    pool_module: ModuleType, n_workers: int, count: int, patience: float, settle: float
) -> dict[str, Any]:
    """The most tasks running at once when every task blocks until it is released.

    Releases them once n_workers are running (or after `patience` s) and `settle` more
    seconds have given a pool that runs too many at once the time to show it."""
    changed = threading.Condition()
    release = threading.Event()
    running = peak = 0

    def task() -> str:
        nonlocal running, peak
        with changed:
            running += 1
            peak = max(peak, running)
            changed.notify_all()
        release.wait(patience)
        with changed:
            running -= 1
        return "done"

    with _pool(pool_module, n_workers) as pool:
        for _ in range(count):
            pool.submit(task)
        with changed:
            changed.wait_for(lambda: running >= n_workers, patience)
            changed.wait_for(lambda: running > n_workers, settle)
            peak_while_blocked = peak
        release.set()
        results = _joined(pool)
    return {"peak_while_blocked": peak_while_blocked, "peak": peak, "results": results}


_idle_pools: list[Any] = []


def start_idle_pool(pool_module: ModuleType, n_workers: int, warm_up_tasks: int) -> None:
    """Start a pool, let it run a few tasks and leave it idle."""
    pool = pool_module.ThreadPool(n_workers)
    _idle_pools.append(pool)
    for index in range(warm_up_tasks):
        pool.submit(_echo, str(index))
    pool.join()


def idle(pool_module: ModuleType, seconds: float) -> None:
    """Wait `seconds` without using the CPU while the idle pool's workers wait for tasks: the
    grader reads how much CPU time the process used meanwhile from the kernel."""
    threading.Event().wait(seconds)


def stop_idle_pool(pool_module: ModuleType) -> None:
    _idle_pools.pop().shutdown()


# -- errors -----------------------------------------------------------------------------------


def _planned(step: list[str]) -> str:
    """Return the token of ["return", token]; raise the builtin exception ["raise", name, message]."""
    if step[0] == "raise":
        raise getattr(builtins, step[1])(step[2])
    return step[1]


def failing_tasks(pool_module: ModuleType, n_workers: int, plan: list[list[str]], then: list[str]) -> dict[str, Any]:
    """join() after a batch in which some tasks raise, and after a second batch of tokens."""
    before = set(threading.enumerate())
    with _pool(pool_module, n_workers) as pool:
        for step in plan:
            pool.submit(_planned, step)
        first = _joined(pool)
        for token in then:
            pool.submit(_echo, token)
        second = _joined(pool)
        alive = len(_threads_started_since(before))
    return {"first": first, "second": second, "alive": alive}


def construct(pool_module: ModuleType, n_workers: int) -> str | None:
    """The name of the exception ThreadPool(n_workers) raised, or None."""
    return _error_name(lambda: pool_module.ThreadPool(n_workers))


# -- shutdown ---------------------------------------------------------------------------------


def shutdown_while_busy(pool_module: ModuleType, n_workers: int, queued: int, busy_seconds: float) -> dict[str, Any]:
    """Call shutdown() while every worker is busy for `busy_seconds` more and `queued` tasks
    wait in the queue; report what had happened by the time it returned."""
    before = set(threading.enumerate())
    pool = pool_module.ThreadPool(n_workers)
    busy_until = threading.Event()
    finished: list[int] = []

    def busy(index: int) -> str:
        busy_until.wait(busy_seconds * 10)  # released by the timer; the timeout is a safety net
        finished.append(index)
        return "busy"

    def quick(index: int) -> str:
        finished.append(index)
        return "quick"

    for index in range(n_workers):
        pool.submit(busy, index)
    for index in range(n_workers, n_workers + queued):
        pool.submit(quick, index)
    timer = threading.Timer(busy_seconds, busy_until.set)
    timer.start()
    pool.shutdown()
    still_alive = [thread.name for thread in _threads_started_since(before) if thread is not timer]
    outcome = {"finished": len(finished), "still_alive": still_alive}
    timer.join()
    return outcome


class _LeftTheBlock(Exception):
    pass


def shutdown_contract(pool_module: ModuleType, n_workers: int, tokens: list[str]) -> dict[str, Any]:
    """The with-statement, a second shutdown(), a submit() after shutdown(), and an exception
    raised inside a with-block."""
    before = set(threading.enumerate())
    ran: list[str] = []
    pool = pool_module.ThreadPool(n_workers)
    with pool as entered:
        for token in tokens:
            pool.submit(ran.append, token)
    facts: dict[str, Any] = {
        "enter_returned": "the pool" if entered is pool else f"{type(entered).__name__} {entered!r}"[:80],
        "ran_in_block": len(ran),
        "alive_after_block": len(_threads_started_since(before)),
        "second_shutdown": _error_name(pool.shutdown),
        "submit_after_shutdown": _error_name(lambda: pool.submit(ran.append, "late")),
    }
    try:
        with pool_module.ThreadPool(n_workers) as failing:
            failing.submit(ran.append, "doomed block")
            raise _LeftTheBlock
    except _LeftTheBlock:
        facts["exception_propagated"] = True
    else:
        facts["exception_propagated"] = False
    facts["alive_after_failed_block"] = len(_threads_started_since(before))
    return facts
