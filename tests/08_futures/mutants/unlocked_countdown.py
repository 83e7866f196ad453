"""Mutant: first_success() on raw threads counts the calls still running with an unlocked `-= 1`.

When calls fail at the same moment, a decrement is lost, the count never reaches zero, and
first_success() waits for the timeout instead of re-raising the last failure.

Caught by: test_first_success_when_all_fail_at_once
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any


def run_all(calls: list[Callable[[], Any]], max_workers: int) -> list[Any]:
    """Run every call on a ThreadPoolExecutor; results in input order; an exception raised by a
    call stands in its place."""
    with ThreadPoolExecutor(max_workers=max_workers) as executor:
        futures = [executor.submit(call) for call in calls]
        return [_result_or_exception(future) for future in futures]


def _result_or_exception(future: Future[Any]) -> Any:
    # exception() waits for the call like result() does, but returns what it raised.
    failure = future.exception()
    return future.result() if failure is None else failure


def first_success(calls: list[Callable[[], Any]], timeout: float) -> Any:
    """The result of whichever call succeeds first, returned as soon as it exists, without
    waiting for the others. Failed calls are skipped. TimeoutError if none succeeds within
    timeout; if all fail, re-raise the exception of the last one to fail."""
    if not calls:
        raise ValueError("first_success() needs at least one call")
    settled = threading.Event()
    successes: list[Any] = []
    failures: list[BaseException] = []
    still_running = len(calls)

    def attempt(call: Callable[[], Any]) -> None:
        nonlocal still_running
        try:
            value = call()
        except Exception as failure:
            failures.append(failure)
            still_running -= 1
            if still_running == 0:
                settled.set()
        else:
            successes.append(value)
            settled.set()

    for call in calls:
        threading.Thread(target=attempt, args=(call,), daemon=True).start()
    if not settled.wait(timeout):
        raise TimeoutError(f"no call succeeded within {timeout} s")
    if successes:
        return successes[0]
    raise failures[-1]


def map_processes(fn: Callable[[Any], Any], items: list[Any], max_workers: int) -> list[Any]:
    """fn over items on a ProcessPoolExecutor; results in input order."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        return list(executor.map(fn, items))
