"""Many calls at once with concurrent.futures.

An executor runs calls on a pool of threads or processes and hands back a Future for each:
a placeholder you can ask whether the call is done, what it returned, or what it raised.
Write the three functions below with them.
"""

from __future__ import annotations

import concurrent.futures  # noqa: F401 - you will need it
from collections.abc import Callable
from typing import Any


def run_all(calls: list[Callable[[], Any]], max_workers: int) -> list[Any]:
    """Run every call on a ThreadPoolExecutor; results in input order; an exception raised by a
    call stands in its place."""
    # TODO: implement this.
    raise NotImplementedError("run_all() is not written yet")


def first_success(calls: list[Callable[[], Any]], timeout: float) -> Any:
    """The result of whichever call succeeds first, returned as soon as it exists, without
    waiting for the others. Failed calls are skipped. TimeoutError if none succeeds within
    timeout; if all fail, re-raise the exception of the last one to fail."""
    # TODO: implement this.
    raise NotImplementedError("first_success() is not written yet")


def map_processes(fn: Callable[[Any], Any], items: list[Any], max_workers: int) -> list[Any]:
    """fn over items on a ProcessPoolExecutor; results in input order."""
    # TODO: implement this.
    raise NotImplementedError("map_processes() is not written yet")
