"""Trusted probes for 07_scraper, run in the sandbox beside the student's scraper.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. The pages live on the suite's loopback server, which
also counts, on its side of the wire, how many requests were in flight.

The student's code shares this interpreter and may replace what it reaches at import: the
builtins and this module's globals. So every probe takes what it calls as keyword defaults,
bound when this module is imported, before the student's module is.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings


def _text(value: object, *, _type: type = type, _str: type = str) -> Any:
    if value is None or _type(value) is _str:
        return value
    return {"unexpected": f"{_type(value).__name__} {value!r:.80}"}


def _plain(result: object, *, _isinstance: Callable[..., bool] = isinstance, _dict: type = dict,
           _type: type = type, _text: Callable[[object], Any] = _text) -> dict[str, Any]:
    """The result's type name and its (key, value) pairs, as JSON data.

    A key or value that is not exactly a str (or None, for a value) becomes
    {"unexpected": description}, so that a str subclass or a bytes title cannot pass for text.
    """
    if not _isinstance(result, _dict):
        return {"type": _type(result).__name__, "pairs": []}
    return {"type": "dict", "pairs": [[_text(key), _text(value)] for key, value in result.items()]}


def _run(scraper: ModuleType, function: str, urls: list[str], workers: int | None, *,
         _list: type = list, _getattr: Callable[..., Any] = getattr) -> object:
    arguments: list[Any] = [_list(urls)]  # a copy: what the student does to it stays theirs
    if workers is not None:
        arguments.append(workers)
    return _getattr(scraper, function)(*arguments)


def scrape(scraper: ModuleType, function: str, urls: list[str], workers: int | None = None, *,
           _plain: Callable[[object], Any] = _plain, _run: Callable[..., object] = _run) -> dict[str, Any]:
    """What scraper.<function>(urls[, workers]) returned."""
    return _plain(_run(scraper, function, urls, workers))


def scrape_threaded_under_preemption(
    scraper: ModuleType, url_lists: list[list[str]], workers: int, seeds: list[int], rate: float, *,
    _forced: type = forced_interleavings, _plain: Callable[[object], Any] = _plain,
    _run: Callable[..., object] = _run, _zip: type = zip,
) -> list[dict[str, Any]]:
    """scrape_threaded() once per forced schedule, each time on its own list of URLs: what it
    returned ("result") and what the tracer saw of the pause that best explains a lost update
    ("pause": for the story of a failure; it decides nothing)."""
    results = []
    for urls, seed in _zip(url_lists, seeds):
        with _forced([scraper], seed, rate) as block:
            result = _plain(_run(scraper, "scrape_threaded", urls, workers))
        results.append({"result": result, "pause": block.telling_pause()})
    return results
