"""Mutant: run_all() finds each result's place with calls.index(call), which finds only the first of
two identical calls, so the second place keeps None.

Caught by: test_run_all_keeps_input_order
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from typing import Any


def run_all(calls: list[Callable[[], Any]], max_workers: int) -> list[Any]:
    """Run every call on a ThreadPoolExecutor; results in input order; an exception raised by a
    call stands in its place."""
    results: list[Any] = [None] * len(calls)
    with ThreadPoolExecutor(max_workers=max_workers) as executor:
        futures = {executor.submit(call): call for call in calls}
        for future in as_completed(futures):
            results[calls.index(futures[future])] = _result_or_exception(future)
    return results


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
    last_failure: BaseException | None = None
    try:
        for future in as_completed(futures, timeout=timeout):
            failure = future.exception()
            if failure is None:
                return future.result()
            last_failure = failure
    except concurrent.futures.TimeoutError:
        # Before Python 3.11 this is not the builtin TimeoutError that callers catch.
        raise TimeoutError(f"no call succeeded within {timeout} s") from None
    finally:
        # Not `with`: its exit would wait for the slow calls. They finish in the background.
        executor.shutdown(wait=False, cancel_futures=True)
    assert last_failure is not None  # as_completed() yielded every future, and each one failed
    raise last_failure


def map_processes(fn: Callable[[Any], Any], items: list[Any], max_workers: int) -> list[Any]:
    """fn over items on a ProcessPoolExecutor; results in input order."""
    with ProcessPoolExecutor(max_workers=max_workers) as executor:
        return list(executor.map(fn, items))
