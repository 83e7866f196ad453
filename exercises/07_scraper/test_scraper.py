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
from student_runtime.diagnoses import ex07_scraper as diagnose
from student_runtime.preempt import forced_interleavings

FUNCTIONS = ["scrape_sequential", "scrape_threaded"]
SLOW = 0.5  # seconds the slow pages take to answer

TITLES = {  # what the page's <head> holds -> (its kind of page, the title scraped from it)
    "<title>Plain</title>": ("plain", "Plain"),
    "<TITLE>Upper case</TITLE>": ("mixed_case", "Upper case"),
    '<title lang="en">With attributes</title>': ("attributes", "With attributes"),
    "<title>\n    Spaced out\n</title>": ("whitespace", "Spaced out"),
    "<title>Fish &amp; chips &lt;3 caf&eacute; &#39;24</title>": ("entities", "Fish & chips <3 café '24"),
    "<title>First</title><title>Second</title>": ("second_title", "First"),
    '<meta name="description" content="no title here">': ("no_title", None),
}


def page(head: str) -> str:
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{head}</head><body><p>Hi</p></body></html>'


def describe(function: str, urls: list[str], workers: int = 3) -> str:
    return f"{function}({len(urls)} URLs" + ("" if function == "scrape_sequential" else f", workers={workers}") + ")"


def scrape(function: str, urls: list[str], workers: int = 3) -> dict:
    """The titles, with an entry for every URL; a stub's NotImplementedError passes through."""
    try:
        titles = scraper.scrape_sequential(urls) if function == "scrape_sequential" else scraper.scrape_threaded(urls, workers)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(diagnose.raised_instead_of_dict(
            describe(function, urls, workers), f"{type(error).__name__}: {error}")) from error
    missing = [url for url in urls if url not in titles]
    assert not missing, diagnose.entries_missing(describe(function, urls, workers), len(missing), len(urls), missing[0])
    return titles


def slow_pages(loopback, name: str, count: int) -> dict[str, str]:
    return {loopback.add(f"/{name}/{i}", body=page(f"<title>{name} {i}</title>"), delay=SLOW): f"{name} {i}"
            for i in range(count)}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_titles_are_parsed(loopback, function):
    expected = {loopback.add(f"/titles/{i}", body=page(head)): (kind, title)
                for i, (head, (kind, title)) in enumerate(TITLES.items())}
    titles = scrape(function, list(expected))
    wrong = [(kind, titles[url], title) for url, (kind, title) in expected.items() if titles[url] != title]
    assert not wrong, diagnose.wrong_titles(describe(function, list(expected)), wrong)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_failures_become_none(loopback, function):
    good = {loopback.add("/fine", body=page("<title>Fine</title>")): "Fine",
            loopback.add("/also-fine", body=page("<title>Also fine</title>")): "Also fine"}
    failing = {  # URL -> its kind of failure
        loopback.add("/missing", body=page("<title>Not found</title>"), status=404): "404",
        loopback.add("/broken", body=page("<title>Server error</title>"), status=500): "500",
        loopback.add("/hangs-up", drop=True): "hangs_up",
        loopback.refused_url(): "refused",
    }
    urls = [*list(good)[:1], *failing, *list(good)[1:]]
    titles = scrape(function, urls)
    wrong = [(kind, titles[url]) for url, kind in failing.items() if titles[url] is not None]
    wrong_good = [(titles[url], text) for url, text in good.items() if titles[url] != text]
    assert not (wrong or wrong_good), diagnose.failures_mixed_up(describe(function, urls), wrong, wrong_good)


def test_threads_keep_workers_requests_in_flight(loopback):
    expected = slow_pages(loopback, "slow", 6)
    assert scrape("scrape_threaded", list(expected)) == expected
    call = describe("scrape_threaded", list(expected))
    assert loopback.peak_in_flight <= 3, diagnose.too_many_in_flight(call, loopback.peak_in_flight, 3)
    assert loopback.peak_paths_in_flight == 3, diagnose.too_few_in_flight(call, loopback.peak_paths_in_flight, 3, SLOW)


@pytest.mark.timing
def test_threads_are_faster(loopback):
    timings = {}
    for function in FUNCTIONS:
        expected = slow_pages(loopback, function, 3)  # fresh pages: a cache must not help
        loopback.reset()
        started = time.perf_counter()
        assert scrape(function, list(expected)) == expected
        timings[function] = time.perf_counter() - started
    sequential, threaded = timings["scrape_sequential"], timings["scrape_threaded"]
    assert sequential / threaded >= 1.5, diagnose.not_faster(3, SLOW, sequential, threaded, 3,
                                                             loopback.peak_in_flight, 1.5)


def test_every_url_is_fetched_once_under_forced_interleavings(loopback, schedules):
    # Thread switches forced at random points of your code make a race on shared state show up.
    for seed in schedules.seeds(2):
        expected = {loopback.add(f"/seed{seed}/{i}", body=page(f"<title>Page {i}</title>")): f"Page {i}"
                    for i in range(12)}
        loopback.reset()
        with forced_interleavings([scraper], seed, rate=0.5) as block:
            titles = scraper.scrape_threaded(list(expected), 4)
        repeated = {path: times for path, times in Counter(r.path for r in loopback.requests).items() if times > 1}
        if titles == expected and not repeated:
            continue
        loopback.reset()
        again = scraper.scrape_threaded(list(expected), 4) != expected  # again, with no switch forced
        again = again or any(times > 1 for times in Counter(r.path for r in loopback.requests).values())
        assert titles == expected, schedules.failure(
            "lost or wrong titles with thread switches forced at random points: did two threads"
            " take the same URL, or none take it?", block, without_switches=again)
        raise AssertionError(schedules.failure(f"URLs requested more than once: {repeated}.", block,
                                               without_switches=again))
