"""Quick checks for pool.py. Run: python -m pytest exercises/05_queue

The hidden grading suite checks the same things more thoroughly (random sizes, more schedules),
and also that an idle pool uses no CPU and that shutdown() lets queued tasks finish first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pool
from student_runtime.preempt import forced_interleavings

PATIENCE = 5.0  # seconds a correct pool never needs; after that a call counts as stuck
T = TypeVar("T")


def finish_within(work: Callable[[], T], what: str, stuck_because: str = "a deadlock, or a worker that died") -> T:
    """work() on a helper thread, so that a stuck pool fails the test instead of freezing it."""
    __tracebackhide__ = True
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            outcome.append((False, error))

    helper = threading.Thread(target=run, daemon=True)
    helper.start()
    helper.join(PATIENCE)
    assert outcome, f"{what} did not return within {PATIENCE} s: {stuck_because}"
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


def echo_after(value: Any, delay: float) -> Any:
    time.sleep(delay)
    return value


def test_results_come_back_in_submission_order():
    workers = pool.ThreadPool(4)
    for index in range(8):
        workers.submit(echo_after, index, delay=0.01 * (8 - index))  # the last ones finish first
    assert finish_within(workers.join, "join()") == list(range(8))
    finish_within(workers.shutdown, "shutdown()")


def test_join_returns_only_the_tasks_since_the_last_join():
    workers = pool.ThreadPool(2)
    for word in ["a", "b", "c"]:
        workers.submit(str.upper, word)
    assert finish_within(workers.join, "join()") == ["A", "B", "C"]
    workers.submit(str.upper, "d")
    assert finish_within(workers.join, "the second join()") == ["D"], "only the task since the last join()"
    finish_within(workers.shutdown, "shutdown()")


def test_a_failing_task_leaves_its_exception_in_its_place():
    def check(number: int) -> int:
        if number % 2:
            raise ValueError(f"odd: {number}")
        return number

    workers = pool.ThreadPool(2)
    for number in range(6):  # three failures, more than the workers
        workers.submit(check, number)
    results = finish_within(workers.join, "join() after failing tasks")
    assert [type(result).__name__ for result in results] == ["int", "ValueError"] * 3, results
    assert [str(result) for result in results] == ["0", "odd: 1", "2", "odd: 3", "4", "odd: 5"]
    workers.submit(check, 8)
    assert finish_within(workers.join, "join() after the failures") == [8], "the workers must survive failures"
    finish_within(workers.shutdown, "shutdown()")


def test_three_workers_run_three_blocking_tasks_at_once():
    threads_before = set(threading.enumerate())
    workers = pool.ThreadPool(3)
    pool_threads = set(threading.enumerate()) - threads_before
    assert len(pool_threads) == 3, f"ThreadPool(3) started {len(pool_threads)} threads in __init__, expected 3"
    all_three_running = threading.Barrier(3, timeout=PATIENCE)  # broken unless 3 tasks wait at once
    ran_on = set()

    def meet() -> str:
        ran_on.add(threading.current_thread())
        all_three_running.wait()
        return "met"

    def note() -> str:
        ran_on.add(threading.current_thread())
        return "noted"

    for task in [meet] * 3 + [note] * 6:
        workers.submit(task)
    results = finish_within(workers.join, "join()")
    assert results == ["met"] * 3 + ["noted"] * 6, (
        f"3 tasks that wait for each other must all run at the same time on ThreadPool(3); got {results}"
    )
    assert ran_on <= pool_threads, "the tasks must run on the 3 workers started in __init__, not on new threads"
    finish_within(workers.shutdown, "shutdown()")


def test_one_worker_runs_tasks_in_fifo_order():
    gate, order = threading.Event(), []
    workers = pool.ThreadPool(1)
    workers.submit(gate.wait, PATIENCE)  # keeps the worker busy while the others queue up
    for index in range(5):
        workers.submit(order.append, index)
    gate.set()
    finish_within(workers.join, "join()")
    assert order == [0, 1, 2, 3, 4], "the first task submitted must run first"
    finish_within(workers.shutdown, "shutdown()")


def test_shutdown_stops_every_worker_and_refuses_new_tasks():
    threads_before = set(threading.enumerate())
    workers = pool.ThreadPool(3)
    done = []
    for index in range(10):
        workers.submit(done.append, index)
    finish_within(workers.shutdown, "shutdown()")
    assert sorted(done) == list(range(10)), "shutdown() must let the queued tasks finish"
    still_alive = set(threading.enumerate()) - threads_before
    assert not still_alive, f"threads alive after shutdown(): {still_alive}"
    try:
        workers.submit(done.append, 10)
    except RuntimeError:
        pass
    else:
        raise AssertionError("submit() after shutdown() must raise RuntimeError")
    finish_within(workers.shutdown, "a second shutdown()")
    with pool.ThreadPool(2) as entered:
        assert isinstance(entered, pool.ThreadPool), "__enter__ must return the pool"


def test_no_result_is_lost_under_forced_interleavings(schedules):
    # Real schedulers rarely switch threads at the worst moment; this test makes them switch often.
    for seed in schedules.seeds(3):
        stuck = None
        with forced_interleavings([pool], seed) as block:
            workers = pool.ThreadPool(4)
            for index in range(40):
                workers.submit(str, index)
            try:
                results = finish_within(workers.join, "join() under forced thread switches",
                                        "lost update: a count shared by the workers went wrong.")
            except AssertionError as error:
                stuck = str(error)  # told after the block, with the story of the switches if it can be told
            else:
                finish_within(workers.shutdown, "shutdown()")
        assert stuck is None, schedules.failure(stuck, block)
        assert results == [str(index) for index in range(40)], schedules.failure(
            "lost update: results went wrong under forced thread switches.", block)
