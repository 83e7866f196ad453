"""Trusted probes for 06_primes, run in the sandbox beside the student's primes.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict or measures a time. Values that are not what the
contract promises (a key that is not an int, a flag that is not a bool) come back as a short
description string, so the suite can say exactly what was wrong.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings


def _plain_flag(value: Any) -> bool | str:
    return value if type(value) is bool else f"{value!r:.60} ({type(value).__name__})"


def _plain_key(key: Any) -> int | str:
    return key if type(key) is int else f"{key!r:.60} ({type(key).__name__})"


def _plain_mapping(result: Any) -> dict[str, Any]:
    """A check_* result as {"type": ..., "pairs": [[key, flag], ...]} (JSON keys must be str)."""
    if not isinstance(result, dict):
        return {"type": type(result).__name__, "pairs": None}
    return {"type": "dict", "pairs": [[_plain_key(key), _plain_flag(flag)] for key, flag in result.items()]}


def is_prime_flags(primes: ModuleType, numbers: list[int]) -> list[bool | str | dict[str, str]]:
    """is_prime(n) for each n; an exception becomes {"raised": ...}, so one bad number does not
    hide the answers for the others."""
    flags: list[bool | str | dict[str, str]] = []
    for n in numbers:
        try:
            flags.append(_plain_flag(primes.is_prime(n)))
        except NotImplementedError:
            raise  # the stub: reported as "not implemented yet"
        except Exception as error:  # noqa: BLE001 - reported to the student, number by number
            flags.append({"raised": f"{type(error).__name__}: {error}"})
    return flags


def run_check(primes: ModuleType, function: str, numbers: list[int], workers: int | None = None) -> dict[str, Any]:
    """check_sequential(numbers), or check_threads/check_processes(numbers, workers)."""
    check = getattr(primes, function)
    return _plain_mapping(check(numbers) if workers is None else check(numbers, workers))


def sequential_baseline(primes: ModuleType, numbers: list[int]) -> list[bool | str]:
    """The student's own is_prime applied one number after another by trusted code: the
    sequential time of the speedup check, which a slow check_sequential cannot inflate."""
    return [_plain_flag(primes.is_prime(n)) for n in numbers]


@contextmanager
def _is_prime_replaced(primes: ModuleType, stand_in: Callable[..., Any]) -> Iterator[None]:
    """The module's is_prime is `stand_in` inside the block. The student's own functions look
    the global up when they call it, so their pools call the stand-in. A stand-in meant for a
    process pool must be named primes.is_prime, where it is found while it stands in: the pool
    pickles it by that name, and a worker started by spawn or forkserver then imports the
    student's own is_prime."""
    original = primes.is_prime
    primes.is_prime = stand_in
    try:
        yield
    finally:
        primes.is_prime = original


def check_threads_under_preemption(
    primes: ModuleType, seeds: list[int], numbers: list[int], workers: int
) -> list[dict[str, Any]]:
    """check_threads() once per forced schedule, with the numbers is_prime was called for more
    than once. A hand-made pool that shares an unlocked index between its threads hands one
    number to two threads here, and may skip another (on Python 3.10 the forced schedules
    mostly show the first, from 3.11 on mostly the second)."""
    original = primes.is_prime
    lock = threading.Lock()
    runs = []
    for seed in seeds:
        calls: Counter[Any] = Counter()

        def counted_is_prime(n: Any) -> Any:
            with lock:
                calls[n] += 1
            return original(n)

        with _is_prime_replaced(primes, counted_is_prime), forced_interleavings([primes], seed):
            result = primes.check_threads(numbers, workers)
        runs.append({"result": _plain_mapping(result),
                     "repeated": [[n, count] for n, count in calls.items() if count > 1]})
    return runs


def thread_pool_usage(primes: ModuleType, numbers: list[int], workers: int, patience: float) -> dict[str, Any]:
    """Which threads call is_prime during check_threads(), and how many at the same time.

    The module's is_prime is replaced by a watcher. Each thread's first call waits (up to
    `patience` seconds in all) until `workers` threads have arrived, so the threads of a
    real pool are all inside together, while a loop on one thread comes in alone.
    """
    original = primes.is_prime
    arrived: set[threading.Thread] = set()  # the objects, not their idents: a new thread may reuse an ident
    lock = threading.Lock()
    everyone_here = threading.Event()
    deadline = time.monotonic() + patience
    inside = peak = 0

    def watched_is_prime(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, peak
        me = threading.current_thread()
        with lock:
            first_call = me not in arrived
            arrived.add(me)
            inside += 1
            peak = max(peak, inside)
            if len(arrived) >= workers:
                everyone_here.set()
        try:
            if first_call:
                everyone_here.wait(max(0.0, deadline - time.monotonic()))
            return original(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    with _is_prime_replaced(primes, watched_is_prime):
        result = primes.check_threads(numbers, workers)
    return {"result": _plain_mapping(result), "threads": len(arrived), "peak": peak}


def is_prime_calls_in_this_process(primes: ModuleType, numbers: list[int], workers: int) -> dict[str, Any]:
    """How many of check_processes()'s is_prime calls ran in this process (on any thread)
    instead of in worker processes."""
    original = primes.is_prime
    this_process = os.getpid()
    calls_here = 0
    lock = threading.Lock()

    def counted_is_prime(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls_here
        if os.getpid() == this_process:
            with lock:
                calls_here += 1
        return original(*args, **kwargs)

    counted_is_prime.__module__, counted_is_prime.__qualname__ = primes.__name__, "is_prime"
    with _is_prime_replaced(primes, counted_is_prime):
        result = primes.check_processes(numbers, workers)
    return {"result": _plain_mapping(result), "calls_here": calls_here}


def worker_concurrency(primes: ModuleType, numbers: list[int], workers: int, patience: float) -> dict[str, Any]:
    """How many worker processes were inside is_prime at the same time during check_processes().

    Seen only where the pool forks its workers from this process during the call (the default
    start method on Linux up to Python 3.13): they inherit the stand-in for is_prime and
    shared counters. A worker's first call waits (up to `patience` seconds after the start in
    all) until `workers` worker processes have arrived, so the workers of a pool that runs
    them at once are all inside together, while workers used one after another come in alone.
    Workers started by spawn or forkserver run the student's own is_prime: "seen" is then 0.
    """
    if "fork" not in multiprocessing.get_all_start_methods():  # Windows: nothing can be watched
        return {"result": _plain_mapping(primes.check_processes(numbers, workers)), "seen": 0, "peak": 0}
    original = primes.is_prime
    this_process = os.getpid()
    shared = multiprocessing.get_context("fork")
    arrived, inside, peak = shared.Value("i", 0), shared.Value("i", 0), shared.Value("i", 0)
    everyone_here = shared.Event()
    deadline = time.monotonic() + patience  # CLOCK_MONOTONIC is one clock for all processes
    first_call_here = True  # every forked worker gets its own copy

    def watched_is_prime(*args: Any, **kwargs: Any) -> Any:
        nonlocal first_call_here
        if os.getpid() == this_process:
            return original(*args, **kwargs)
        first_call, first_call_here = first_call_here, False
        with inside.get_lock():
            inside.value += 1
            peak.value = max(peak.value, inside.value)
            if first_call:
                arrived.value += 1
                if arrived.value >= workers:
                    everyone_here.set()
        try:
            if first_call:
                everyone_here.wait(max(0.0, deadline - time.monotonic()))
            return original(*args, **kwargs)
        finally:
            with inside.get_lock():
                inside.value -= 1

    watched_is_prime.__module__, watched_is_prime.__qualname__ = primes.__name__, "is_prime"
    with _is_prime_replaced(primes, watched_is_prime):
        result = primes.check_processes(numbers, workers)
    return {"result": _plain_mapping(result), "seen": arrived.value, "peak": peak.value}
