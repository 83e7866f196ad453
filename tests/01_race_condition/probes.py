"""Trusted probes for 01_race_condition, run in the sandbox beside the student's counter.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict.
"""

from __future__ import annotations

import threading
import time
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings


def single_thread_values(counter: ModuleType, amounts: list[int | None]) -> dict[str, Any]:
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
            return {"values": values, "raised": f"{type(error).__name__}({str(error)[:200]!r})"}
        values.append(_plain(shared.value))
    return {"values": values, "raised": None}


def _plain(value: Any) -> Any:
    """The value itself when it is an int; otherwise a description the suite can show."""
    return value if type(value) is int else f"{type(value).__name__} {value!r:.60}"


def count_in_threads(counter: ModuleType, n_threads: int, increments: int) -> Any:
    return counter.count_in_threads(n_threads, increments)


def shared_counter_under_preemption(
    counter: ModuleType, seeds: list[int], n_threads: int, increments: int
) -> list[Any]:
    """One shared Counter incremented by n_threads trusted threads, per forced schedule."""
    finals = []
    for seed in seeds:
        shared = counter.Counter()

        def work() -> None:
            for _ in range(increments):
                shared.increment()

        threads = [threading.Thread(target=work) for _ in range(n_threads)]
        with forced_interleavings([counter], seed):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finals.append(shared.value)
    return finals


def count_in_threads_under_preemption(
    counter: ModuleType, seeds: list[int], n_threads: int, increments: int
) -> list[Any]:
    """The student's own count_in_threads(), per forced schedule."""
    finals = []
    for seed in seeds:
        with forced_interleavings([counter], seed):
            finals.append(counter.count_in_threads(n_threads, increments))
    return finals


def thread_overlap(counter: ModuleType, n_threads: int, increments: int, patience: float) -> dict[str, Any]:
    """How many of count_in_threads()'s threads are inside increment() at the same time.

    Each thread's first increment() waits (up to `patience` seconds in all) until every
    thread has arrived. Threads that run at once are then all inside together; threads
    started and joined one after another come in one at a time.
    """
    original = counter.Counter.increment
    arrived: set[threading.Thread] = set()  # the objects, not their idents, which are reused
    lock = threading.Lock()
    everyone_here = threading.Event()
    deadline = time.monotonic() + patience
    inside = peak = 0

    def observed_increment(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal inside, peak
        me = threading.current_thread()
        with lock:
            first_call = me not in arrived
            arrived.add(me)
            inside += 1
            peak = max(peak, inside)
            if len(arrived) >= n_threads:
                everyone_here.set()
        try:
            if first_call:
                everyone_here.wait(max(0.0, deadline - time.monotonic()))
            return original(self, *args, **kwargs)
        finally:
            with lock:
                inside -= 1

    counter.Counter.increment = observed_increment
    try:
        total = counter.count_in_threads(n_threads, increments)
    finally:
        counter.Counter.increment = original
    return {"total": total, "peak": peak, "threads": len(arrived)}
