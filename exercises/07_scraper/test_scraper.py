"""Quick checks for scraper.py. Run: python -m pytest exercises/07_scraper

The pages come from a small HTTP server that the tests start on your own machine
(127.0.0.1); it also counts how many of your requests it is answering at the same time.
The hidden grading suite checks the same things more thoroughly (random titles and sizes,
more schedules, best of several timing rounds).
"""

import time
from collections import Counter

import pytest

import scraper
from student_runtime.preempt import forced_interleavings

FUNCTIONS = ["scrape_sequential", "scrape_threaded"]
SLOW = 0.5  # seconds the slow pages take to answer

TITLES = {  # what the page's <head> holds -> the title scraped from it
    "<title>Plain</title>": "Plain",
    "<TITLE>Upper case</TITLE>": "Upper case",
    '<title lang="en">With attributes</title>': "With attributes",
    "<title>\n    Spaced out\n</title>": "Spaced out",
    "<title>Fish &amp; chips &lt;3 caf&eacute; &#39;24</title>": "Fish & chips <3 café '24",
    "<title>First</title><title>Second</title>": "First",
    '<meta name="description" content="no title here">': None,
}


def page(head: str) -> str:
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{head}</head><body><p>Hi</p></body></html>'


def scrape(function: str, urls: list[str], workers: int = 3) -> dict:
    if function == "scrape_sequential":
        return scraper.scrape_sequential(urls)
    return scraper.scrape_threaded(urls, workers)


def slow_pages(loopback, name: str, count: int) -> dict[str, str]:
    return {loopback.add(f"/{name}/{i}", body=page(f"<title>{name} {i}</title>"), delay=SLOW): f"{name} {i}"
            for i in range(count)}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_titles_are_parsed(loopback, function):
    expected = {loopback.add(f"/titles/{i}", body=page(head)): title
                for i, (head, title) in enumerate(TITLES.items())}
    assert scrape(function, list(expected)) == expected


@pytest.mark.parametrize("function", FUNCTIONS)
def test_failures_become_none(loopback, function):
    expected = {
        loopback.add("/fine", body=page("<title>Fine</title>")): "Fine",
        loopback.add("/missing", body=page("<title>Not found</title>"), status=404): None,
        loopback.add("/broken", body=page("<title>Server error</title>"), status=500): None,
        loopback.add("/hangs-up", drop=True): None,
        loopback.refused_url(): None,
        loopback.add("/also-fine", body=page("<title>Also fine</title>")): "Also fine",
    }
    assert scrape(function, list(expected)) == expected


def test_threads_keep_workers_requests_in_flight(loopback):
    expected = slow_pages(loopback, "slow", 6)
    assert scraper.scrape_threaded(list(expected), 3) == expected
    assert loopback.peak_in_flight == 3, (
        f"the server saw up to {loopback.peak_in_flight} request(s) at once, expected exactly 3 (workers=3)"
    )


@pytest.mark.timing
def test_threads_are_faster(loopback):
    timings = {}
    for function in FUNCTIONS:
        expected = slow_pages(loopback, function, 3)  # fresh pages: a cache must not help
        started = time.perf_counter()
        assert scrape(function, list(expected)) == expected
        timings[function] = time.perf_counter() - started
    speedup = timings["scrape_sequential"] / timings["scrape_threaded"]
    assert speedup >= 1.5, (
        f"3 pages of {SLOW} s each took {timings['scrape_sequential']:.2f} s sequentially and"
        f" {timings['scrape_threaded']:.2f} s with 3 workers: {speedup:.1f}x, expected at least 1.5x"
    )


def test_every_url_is_fetched_once_under_forced_interleavings(loopback, schedules):
    # Thread switches forced at random points of your code make a race on shared state show up.
    for seed in schedules.seeds(2):
        expected = {loopback.add(f"/seed{seed}/{i}", body=page(f"<title>Page {i}</title>")): f"Page {i}"
                    for i in range(12)}
        with forced_interleavings([scraper], seed, rate=0.5) as block:
            titles = scraper.scrape_threaded(list(expected), 4)
        assert titles == expected, schedules.failure(
            "lost or wrong titles with thread switches forced at random points: did two threads"
            " take the same URL, or none take it?", block)
    repeated = {path: times for path, times in Counter(r.path for r in loopback.requests).items() if times > 1}
    assert not repeated, f"URLs requested more than once: {repeated} ({schedules.replay_hint()})"
