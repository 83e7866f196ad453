"""Trusted probes for 03_semaphore, run in the sandbox beside the student's downloader.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. How many requests were in flight, and when each one
started and finished, is measured by the loopback server in the judging process, never here.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings


def download(
    downloader: ModuleType, urls: list[str], max_concurrent: int, download_timeout: float | None = None
) -> dict[str, Any]:
    """What download_all() returned, as plain data (see `_as_plain_data`).

    Without download_timeout the call passes no timeout, so the student's default applies.
    (The sandbox's own `timeout` keyword is the deadline of the whole call.)
    """
    if download_timeout is None:
        return _as_plain_data(downloader.download_all(urls, max_concurrent))
    return _as_plain_data(downloader.download_all(urls, max_concurrent, timeout=download_timeout))


def download_under_forced_interleavings(
    downloader: ModuleType, urls: list[str], max_concurrent: int, seed: int
) -> dict[str, Any]:
    """download_all() with thread switches forced at random points of the student's code."""
    with forced_interleavings([downloader], seed):
        result = downloader.download_all(urls, max_concurrent)
    return _as_plain_data(result)


def rejection(downloader: ModuleType, urls: list[str], max_concurrent: int) -> dict[str, Any]:
    """{"raised": "ValueError"} when download_all() raises it, else what it returned.

    Any other exception propagates, so the student sees it with its traceback.
    """
    try:
        result = downloader.download_all(urls, max_concurrent)
    except ValueError:
        return {"raised": "ValueError"}
    return {"raised": None, "returned": _as_plain_data(result)}


def _as_plain_data(result: Any) -> dict[str, Any]:
    """{"type": the result's type name, "bodies": {url: body decoded as latin-1} or None,
    "odd_entries": [[key type, value type], ...] for entries that are not str -> bytes}.

    latin-1 maps each byte to one character, so the judge gets the exact bytes back. The type
    checks are exact (`type(x) is str`), so no subclass with a rigged __eq__ gets through.
    """
    if type(result) is not dict:
        return {"type": type(result).__name__, "bodies": None, "odd_entries": []}
    bodies: dict[str, str] = {}
    odd_entries: list[list[str]] = []
    for url, body in result.items():
        if type(url) is str and type(body) is bytes:
            bodies[url] = body.decode("latin-1")
        else:
            odd_entries.append([type(url).__name__, type(body).__name__])
    return {"type": "dict", "bodies": bodies, "odd_entries": odd_entries}
