"""Mutant: first_success() calls concurrent.futures.wait(futures, timeout) without
return_when=FIRST_COMPLETED, so it waits for every call (or the whole timeout) before looking.

Caught by: test_first_success_does_not_wait_for_slow_calls
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
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
    # One worker per call: a call waiting for a free worker could not succeed first.
    executor = ThreadPoolExecutor(max_workers=len(calls))
    futures = [executor.submit(call) for call in calls]
    try:
        done, _ = concurrent.futures.wait(futures, timeout=timeout)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    failed = [future for future in done if future.exception() is not None]
    for future in done:
        if future.exception() is None:
            return future.result()
    if len(failed) < len(futures):
        raise TimeoutError(f"no call succeeded within {timeout} s")
    raise failed[-1].exception()  # type: ignore[misc]


def map_processes(fn: Callable[[Any], Any], items: list[Any], max_workers: int) -> list[Any]:
    """fn over items on a ProcessPoolExecutor; results in input order."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        return list(executor.map(fn, items))
