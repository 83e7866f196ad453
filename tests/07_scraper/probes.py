"""Trusted probes for 07_scraper, run in the sandbox beside the student's scraper.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. The pages live on the suite's loopback server, which
also counts, on its side of the wire, how many requests were in flight.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings


def scrape(scraper: ModuleType, function: str, urls: list[str], workers: int | None = None) -> dict[str, Any]:
    """What scraper.<function>(urls[, workers]) returned."""
    return _plain(_run(scraper, function, urls, workers))


def scrape_threaded_under_preemption(
    scraper: ModuleType, url_lists: list[list[str]], workers: int, seeds: list[int], rate: float
) -> list[dict[str, Any]]:
    """scrape_threaded() once per forced schedule, each time on its own list of URLs."""
    results = []
    for urls, seed in zip(url_lists, seeds):
        with forced_interleavings([scraper], seed, rate):
            results.append(_plain(_run(scraper, "scrape_threaded", urls, workers)))
    return results


def _run(scraper: ModuleType, function: str, urls: list[str], workers: int | None) -> object:
    arguments: list[Any] = [list(urls)]  # a copy: what the student does to it stays theirs
    if workers is not None:
        arguments.append(workers)
    return getattr(scraper, function)(*arguments)


def _plain(result: object) -> dict[str, Any]:
    """The result's type name and its (key, value) pairs, as JSON data.

    A key or value that is not exactly a str (or None, for a value) becomes
    {"unexpected": description}, so that a str subclass or a bytes title cannot pass for text.
    """
    if not isinstance(result, dict):
        return {"type": type(result).__name__, "pairs": []}
    return {"type": "dict", "pairs": [[_text(key), _text(value)] for key, value in result.items()]}


def _text(value: object) -> Any:
    if value is None or type(value) is str:
        return value
    return {"unexpected": f"{type(value).__name__} {value!r:.80}"}
