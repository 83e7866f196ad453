"""Trusted probes for 03_semaphore, run in the sandbox beside the student's downloader.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. How many requests were in flight, and when each one
started and finished, is measured by the loopback server in the judging process, never here.

The student's code shares this interpreter and may replace what it reaches at import: the
builtins and this module's globals. So every probe takes what it calls as keyword defaults,
bound when this module is imported, before the student's module is.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings


def _as_plain_data(result: Any, *, _type: type = type, _dict: type = dict, _str: type = str,
                   _bytes: type = bytes) -> dict[str, Any]:
    """{"type": the result's type name, "bodies": {url: body decoded as latin-1} or None,
    "odd_entries": [[key type, value type], ...] for entries that are not str -> bytes}.

    latin-1 maps each byte to one character, so the judge gets the exact bytes back. The type
    checks are exact (`type(x) is str`), so no subclass with a rigged __eq__ gets through.
    """
    if _type(result) is not _dict:
        return {"type": _type(result).__name__, "bodies": None, "odd_entries": []}
    bodies: dict[str, str] = {}
    odd_entries: list[list[str]] = []
    for url, body in result.items():
        if _type(url) is _str and _type(body) is _bytes:
            bodies[url] = body.decode("latin-1")
        else:
            odd_entries.append([_type(url).__name__, _type(body).__name__])
    return {"type": "dict", "bodies": bodies, "odd_entries": odd_entries}


Plain = Callable[[Any], dict[str, Any]]


def download(
    downloader: ModuleType, urls: list[str], max_concurrent: int, download_timeout: float | None = None, *,
    _as_plain_data: Plain = _as_plain_data,
) -> dict[str, Any]:
    """What download_all() returned, as plain data (see `_as_plain_data`).

    Without download_timeout the call passes no timeout, so the student's default applies.
    (The sandbox's own `timeout` keyword is the deadline of the whole call.)
    """
    if download_timeout is None:
        return _as_plain_data(downloader.download_all(urls, max_concurrent))
    return _as_plain_data(downloader.download_all(urls, max_concurrent, timeout=download_timeout))


def download_under_forced_interleavings(
    downloader: ModuleType, urls: list[str], max_concurrent: int, seed: int, *,
    _forced: type = forced_interleavings, _as_plain_data: Plain = _as_plain_data,
) -> dict[str, Any]:
    """download_all() with thread switches forced at random points of the student's code."""
    with _forced([downloader], seed):
        result = downloader.download_all(urls, max_concurrent)
    return _as_plain_data(result)


def rejection(downloader: ModuleType, urls: list[str], max_concurrent: int, *,
              _as_plain_data: Plain = _as_plain_data, _value_error: type = ValueError) -> dict[str, Any]:
    """{"raised": "ValueError"} when download_all() raises it, else what it returned.

    Any other exception propagates, so the student sees it with its traceback.
    """
    try:
        result = downloader.download_all(urls, max_concurrent)
    except _value_error:
        return {"raised": "ValueError"}
    return {"raised": None, "returned": _as_plain_data(result)}
