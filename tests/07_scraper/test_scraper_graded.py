"""Hidden suite for 07_scraper: page titles, one request at a time and with a pool of threads.

Every page lives on the loopback server at a fresh random path with a random title, so no
answer can be hard-coded or cached between calls. The server counts the requests in flight
on its own side of the wire, and the parent process times every call.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

import httpx
import pytest

from student_runtime.diagnoses import ex07_scraper as diagnose
from student_runtime.loopback import LoopbackServer
from student_runtime.race_story import first_story
from grader.harness.sandbox import NotImplementedYet, Sandbox, StudentCodeError
from grader.harness.timing import Speedup, best_speedups, frozen

FUNCTIONS = ["scrape_sequential", "scrape_threaded"]
CALL_TIMEOUT = 15  # seconds; the slowest call of this suite needs under 2
# Seconds a slow page takes to answer. Each thread also needs CPU time of its own, which the
# GIL serializes: creating an httpx.Client (as httpx.get() does on every call) takes 25 ms on
# an idle machine and up to 0.2 s on a loaded one. The delays are long enough that the
# threads of a correct solution still end up waiting for the server together.
IN_FLIGHT_DELAY = 0.8  # all `workers` in flight needs workers x that CPU time < the delay
SPEEDUP_DELAY = 0.5
SPEEDUP_WORKERS = 3  # the ideal speedup: 3 pages, one round of 3 threads
SPEEDUP_ROUNDS = 2
# Measured on a shared 2-core machine at a load average of 5 to 13: correct solutions 1.8x to
# 3.0x (the low end making a client per request), a sequential "threaded" one 0.9x to 1.0x.
SHARE_OF_IDEAL_SPEEDUP = 0.5
SCHEDULES = 4  # forced schedules in the race check
# Chance of a forced thread switch before each opcode of scraper.py, above the default: the
# threads spend most of their time in httpx, outside the code that hands out the URLs, so
# two of them seldom meet there. With 0.5, an unprotected shared index goes wrong in about
# 19 of 20 schedules of 12 URLs.
PREEMPTION_RATE = 0.5

WORDS = ("amber", "harbor", "lantern", "meadow", "orbit", "pepper", "quartz", "river",
         "saffron", "thistle", "velvet", "willow", "copper", "falcon", "juniper", "nectar")
# (as written in HTML, as it reads); the first four are always in the entities page
ENTITIES = [("&amp;", "&"), ("&lt;", "<"), ("&#39;", "'"), ("&eacute;", "é"),
            ("&gt;", ">"), ("&quot;", '"'), ("&#233;", "é"), ("&#x2014;", "—")]


# -- pages ----------------------------------------------------------------------------------


def random_text(rng: Random) -> str:
    words = [word.capitalize() if rng.random() < 0.5 else word
             for word in rng.sample(WORDS, rng.randint(2, 4))]
    return " ".join(words + [str(rng.randint(2, 9999))])


def html_page(rng: Random, head: str, body: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n{head}\n</head>\n'
            f"<body>\n<p>{random_text(rng)}</p>\n{body}\n</body>\n</html>\n")


def titled_page(rng: Random, title: str) -> str:
    return html_page(rng, f"<title>{title}</title>")


def serve(loopback: LoopbackServer, rng: Random, body: str = "", **route: Any) -> str:
    """Register a page at a fresh random path (the case never shows in the URL)."""
    return loopback.add(f"/{rng.getrandbits(64):016x}", body=body, **route)


def mixed_case(rng: Random, tag: str) -> str:
    """tag with random letters in upper case, at least one of them."""
    letters = [rng.choice((letter.lower(), letter.upper())) for letter in tag]
    spot = rng.randrange(len(letters))
    letters[spot] = letters[spot].upper()
    return "".join(letters)


@dataclass(frozen=True)
class TitleCase:
    kind: str  # a key of diagnose.PAGES: how the student reads it, and the advice that fits
    render: Callable[[Random, str], tuple[str, str | None]]  # random text -> (HTML, the expected title)


def plain(rng: Random, text: str) -> tuple[str, str]:
    return titled_page(rng, text), text


def tag_in_mixed_case(rng: Random, text: str) -> tuple[str, str]:
    return html_page(rng, f"<{mixed_case(rng, 'title')}>{text}</{mixed_case(rng, 'title')}>"), text


def tag_with_attributes(rng: Random, text: str) -> tuple[str, str]:
    return html_page(rng, f'<title lang="en" data-page="{rng.randint(1, 99)}">{text}</title>'), text


def whitespace_around(rng: Random, text: str) -> tuple[str, str]:
    return titled_page(rng, f"\n{' ' * rng.randint(1, 8)}{text}\n\t "), text


def entities(rng: Random, text: str) -> tuple[str, str]:
    chosen = ENTITIES[:4] + rng.sample(ENTITIES[4:], 2)
    written, reads = text.split(), text.split()
    for entity, character in chosen:
        word, spot = rng.choice(WORDS), rng.randint(0, len(written))
        written.insert(spot, entity + word)
        reads.insert(spot, character + word)
    return titled_page(rng, " ".join(written)), " ".join(reads)


def second_title_further_down(rng: Random, text: str) -> tuple[str, str]:
    return html_page(rng, f"<title>{text}</title>", f"<svg><title>{random_text(rng)}</title></svg>"), text


def no_title(rng: Random, text: str) -> tuple[str, None]:
    return html_page(rng, f'<meta name="description" content="{text}">', f"<h1>{text}</h1>"), None


TITLE_CASES = [
    TitleCase("plain", plain),
    TitleCase("mixed_case", tag_in_mixed_case),
    TitleCase("attributes", tag_with_attributes),
    TitleCase("whitespace", whitespace_around),
    TitleCase("entities", entities),
    TitleCase("second_title", second_title_further_down),
    TitleCase("no_title", no_title),
]


@dataclass(frozen=True)
class FailingUrl:
    kind: str  # a key of diagnose.FAILURES
    make: Callable[[LoopbackServer, Random], str]  # registers the failure, returns its URL


def error_page(status: int) -> Callable[[LoopbackServer, Random], str]:
    return lambda loopback, rng: serve(loopback, rng, titled_page(rng, f"Error {status}: {random_text(rng)}"), status=status)


FAILING_URLS = [
    FailingUrl("404", error_page(404)),
    FailingUrl("500", error_page(500)),
    FailingUrl("refused", lambda loopback, rng: loopback.refused_url()),
    FailingUrl("hangs_up", lambda loopback, rng: serve(loopback, rng, delay=0.1, drop=True)),
]


# -- calling the student's code -------------------------------------------------------------


def describe(function: str, urls: list[str], workers: int | None) -> str:
    return f"{function}({len(urls)} URLs" + ("" if workers is None else f", workers={workers}") + ")"


def threaded_only(function: str, workers: int) -> int | None:
    """The workers argument, which only scrape_threaded takes."""
    return workers if function == "scrape_threaded" else None


def random_workers(rng: Random, function: str) -> int | None:
    return threaded_only(function, rng.randint(2, 4))


def timed_probe(student: Sandbox, probe: str, call: str, timeout: float = CALL_TIMEOUT, **kwargs: Any
                ) -> tuple[Any, float]:
    """student.timed_call(probe), with an exception from the student's code as a verdict."""
    try:
        return student.timed_call(probe, timeout=timeout, **kwargs)
    except NotImplementedYet:
        raise
    except StudentCodeError as error:
        raise AssertionError(diagnose.raised_instead_of_dict(call, str(error))) from None


def scrape(student: Sandbox, function: str, urls: list[str], workers: int | None = None
           ) -> tuple[dict[str, str | None], float]:
    """The student's {url: title} for urls, checked for shape, and the seconds it took."""
    call = describe(function, urls, workers)
    result, seconds = timed_probe(student, "scrape", call, function=function, urls=urls, workers=workers)
    titles = titles_of(result, call)
    missing = [url for url in urls if url not in titles]
    assert not missing, diagnose.entries_missing(call, len(missing), len(urls), missing[0])
    unknown = [key for key in titles if key not in set(urls)]
    assert not unknown, f"{call} returned keys that are not among its URLs: {unknown[:3]}"
    return titles, seconds


def titles_of(result: dict[str, Any], call: str) -> dict[str, str | None]:
    assert result["type"] == "dict", f"{call} returned a {result['type']}, expected a dict {{url: title}}"
    odd = [pair for pair in result["pairs"] if any(isinstance(item, dict) for item in pair)]
    assert not odd, (
        f"{call}: the keys must be the URLs (str) and the values str or None; got "
        + ", ".join(" -> ".join(item["unexpected"] if isinstance(item, dict) else repr(item) for item in pair)
                    for pair in odd[:3])
    )
    return dict(result["pairs"])


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.group("parsing")
@pytest.mark.parametrize("function", FUNCTIONS)
def test_titles_are_parsed(student, loopback, function, rng):
    cases = {}
    for case in rng.sample(TITLE_CASES, len(TITLE_CASES)):
        body, expected = case.render(rng, random_text(rng))
        cases[serve(loopback, rng, body)] = (case, expected)
    workers = random_workers(rng, function)

    titles, _ = scrape(student, function, list(cases), workers)

    wrong = [(case.kind, titles[url], expected) for url, (case, expected) in cases.items() if titles[url] != expected]
    assert not wrong, diagnose.wrong_titles(describe(function, list(cases), workers), wrong)


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.group("failures")
@pytest.mark.parametrize("function", FUNCTIONS)
def test_failures_become_none(student, loopback, function, rng):
    good = {serve(loopback, rng, titled_page(rng, text)): text for text in (random_text(rng) for _ in range(3))}
    failing = {failure.make(loopback, rng): failure for failure in FAILING_URLS}
    urls = rng.sample([*good, *failing], len(good) + len(failing))
    workers = random_workers(rng, function)

    titles, _ = scrape(student, function, urls, workers)

    wrong = [(failure.kind, titles[url]) for url, failure in failing.items() if titles[url] is not None]
    wrong_good = [(titles[url], text) for url, text in good.items() if titles[url] != text]
    assert not (wrong or wrong_good), diagnose.failures_mixed_up(describe(function, urls, workers), wrong, wrong_good)


# -- concurrency ------------------------------------------------------------------------------


def random_sizes(rng: Random, more_urls_than_workers: bool) -> tuple[int, int]:
    """(URLs, workers). At least 5 URLs when they outnumber the workers, so that a pool of
    the executor's default size (5 or more threads) shows up as too many in flight."""
    if more_urls_than_workers:
        workers = rng.randint(3, 4)
        return rng.randint(5, 2 * workers), workers
    count = rng.randint(2, 3)
    return count, count + rng.randint(1, 3)


@pytest.mark.group("concurrency")
@pytest.mark.timing
@pytest.mark.parametrize("more_urls_than_workers", [True, False],
                         ids=["more_urls_than_workers", "more_workers_than_urls"])
def test_workers_requests_in_flight(student, loopback, more_urls_than_workers, rng):
    count, workers = random_sizes(rng, more_urls_than_workers)
    expected = {serve(loopback, rng, titled_page(rng, text), delay=IN_FLIGHT_DELAY): text
                for text in (random_text(rng) for _ in range(count))}
    loopback.reset()
    call = describe("scrape_threaded", list(expected), workers)

    titles, _ = scrape(student, "scrape_threaded", list(expected), workers)

    assert titles == expected, f"{call} returned wrong titles for pages with a plain <title>"
    repeated = [f"{loopback.base_url}{path} {times} times" for path, times in
                Counter(record.path for record in loopback.requests).items() if times > 1]
    assert not repeated, diagnose.requested_more_than_once(call, repeated)
    wanted = min(workers, count)
    assert loopback.peak_in_flight <= wanted, diagnose.too_many_in_flight(call, loopback.peak_in_flight, wanted)
    # Distinct pages: only requests for different pages at once are work done in parallel.
    peak = loopback.peak_paths_in_flight
    assert peak == wanted, diagnose.too_few_in_flight(call, peak, wanted, IN_FLIGHT_DELAY)


@pytest.mark.group("concurrency")
def test_every_url_is_fetched_exactly_once(student, loopback, schedules, exercise, rng):
    workers = rng.randint(4, 5)
    seeds = schedules.seeds(SCHEDULES)
    # Bare pages: the time goes into handing out URLs, not into parsing under the tracer.
    expected_per_seed = [{serve(loopback, rng, f"<title>{text}</title>"): text
                          for text in (random_text(rng) for _ in range(rng.randint(12, 14)))}
                         for _ in seeds]

    # The manifest's time limit: a client per request costs up to 0.2 s each on a busy machine.
    reports, _ = timed_probe(student, "scrape_threaded_under_preemption",
                             f"scrape_threaded(workers={workers}) under forced thread switches",
                             timeout=exercise.time_limit, url_lists=[list(e) for e in expected_per_seed],
                             workers=workers, seeds=seeds, rate=PREEMPTION_RATE)

    fetched = Counter(record.path for record in loopback.requests)
    problems, pauses = [], []
    for seed, expected, report in zip(seeds, expected_per_seed, reports):
        found = len(problems)
        result = report.get("result") if isinstance(report, dict) else report
        titles = titles_of(result, describe("scrape_threaded", list(expected), workers))
        for url, text in expected.items():
            times = fetched[url.removeprefix(loopback.base_url)]
            if times != 1:
                problems.append(f"- seed {seed}: {url} was requested {times} times")
            elif url not in titles:
                problems.append(f"- seed {seed}: {url} has no entry in the result")
            elif titles[url] != text:
                problems.append(f"- seed {seed}: {url} gave {titles[url]!r}, expected {text!r}")
        if len(problems) > found and isinstance(report, dict):
            pauses.append(report.get("pause"))
    story = first_story(f"{exercise.module}.py", pauses)
    assert not problems, (
        f"lost or repeated work: with thread switches forced at random points, scrape_threaded"
        f" (workers={workers}) did not fetch every URL exactly once:\n" + "\n".join(problems[:8]) +
        "\nTwo threads took the same URL, or none took it. Hand the URLs out with an executor or a"
        " queue.Queue, or guard a shared index with a lock around both reading and advancing it."
        f" {story + ' ' if story else ''}({schedules.replay_hint()})"
    )


# -- speedup ----------------------------------------------------------------------------------


def one_after_another(urls: list[str]) -> float:
    """The sequential baseline, measured with trusted code in this process: the seconds it
    takes to fetch the pages one after another, each with a client of its own as httpx.get()
    makes one. The student's scrape_sequential is not timed, so nothing it does (a pause after
    each request, say) can make the baseline slower."""
    started = time.perf_counter()
    for url in urls:
        httpx.get(url, timeout=CALL_TIMEOUT, trust_env=False)
    return time.perf_counter() - started


@pytest.mark.group("speedup")
@pytest.mark.timing
def test_threads_make_scraping_faster(student, loopback, rng):
    workers = SPEEDUP_WORKERS
    peaks: list[int] = []

    def fresh_pages() -> dict[str, str]:
        """Fresh pages every time, so that nothing cached from an earlier call helps."""
        return {serve(loopback, rng, titled_page(rng, text), delay=SPEEDUP_DELAY): text
                for text in (random_text(rng) for _ in range(workers))}

    def measure() -> Speedup:
        with frozen(student.pid):  # nothing the submission runs takes CPU from the baseline
            sequential = one_after_another(list(fresh_pages()))
        expected = fresh_pages()
        loopback.reset()
        titles, parallel = scrape(student, "scrape_threaded", list(expected), workers)
        peaks.append(loopback.peak_in_flight)
        assert titles == expected, (
            f"{describe('scrape_threaded', list(expected), workers)} returned wrong titles for pages"
            " with a plain <title>"
        )
        return Speedup(sequential, parallel)

    # Warm up: imports and first connections are not what is measured.
    scrape(student, "scrape_threaded", [serve(loopback, rng, titled_page(rng, random_text(rng)))], workers)
    one_after_another([serve(loopback, rng, titled_page(rng, random_text(rng)))])
    bar = SHARE_OF_IDEAL_SPEEDUP * workers
    # One after another, the pages take at least workers x SPEEDUP_DELAY, whatever the round: once
    # that floor over the best parallel time clears the bar, no further round can fail it.
    speedup = best_speedups({"student": measure}, rounds=SPEEDUP_ROUNDS,
                            settled=lambda best: workers * SPEEDUP_DELAY / best["student"].parallel >= bar)["student"]

    assert speedup.ratio >= bar, diagnose.not_faster(workers, SPEEDUP_DELAY, speedup.sequential, speedup.parallel,
                                                     workers, max(peaks), bar, speedup.rounds)
