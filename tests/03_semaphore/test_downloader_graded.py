"""Hidden suite for 03_semaphore: a downloader with at most max_concurrent requests in flight.

The student's download_all() runs in the sandbox and sends real requests to the loopback
server owned by this process. The server counts the requests in flight and records when each
one started and finished on its side of the wire, so the concurrency judged here is the one
the student's code really produced, whatever it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

import pytest

from student_runtime.loopback import LoopbackServer, RequestRecord
from grader.harness.sandbox import NotImplementedYet, Sandbox, StudentCodeError, StudentCodeHung
from student_runtime.diagnoses import ex03_semaphore as diagnose

LIMIT_SCHEDULES = 3  # forced schedules per limit check; one excess request in any fails it
# Seconds the server takes to answer a long, a slow and a quick page. A long page gives every
# thread of a correct solution time to send its request, even on a busy machine.
LONG, SLOW, QUICK = 0.6, 1.0, 0.03
TIMEOUT = 0.5  # download_all()'s timeout in the failure checks
# Seconds before a page answers that must be given up after TIMEOUT: beyond httpx's default
# timeout (5 s), so that a solution that drops the timeout argument waits at least that long.
TOO_SLOW = 8.0
# A call with a page that times out must return within this. Far from both sides: a correct
# solution needs TIMEOUT and a few tenths (even in batches on a loaded machine, about 3 s at a
# load of 16 on 2 cores); one that ignores the timeout at least 5 s.
PROMPT = 4.0
DEADLOCK_AFTER = 6.0  # a call slower than this is reported as a deadlock


@dataclass(frozen=True)
class Page:
    """A URL on the loopback server and what download_all() must make of it."""

    url: str
    body: bytes | None  # the body it must return for this URL; None: leave the URL out
    served: str  # how the server answers, for messages

    def __str__(self) -> str:
        return f"{self.url} ({self.served})"


def good_page(
    loopback: LoopbackServer, rng: Random, *, delay: float = 0.0, status: int = 200, size: int | None = None
) -> Page:
    body = rng.randbytes(rng.randint(1, 3000) if size is None else size)
    url = loopback.add(body=body, status=status, delay=delay)
    return Page(url, body, f"answers {status} after {delay:.2f} s" if delay else f"answers {status}")


def error_status_page(loopback: LoopbackServer, rng: Random) -> Page:
    status = rng.choice([400, 403, 404, 410, 500, 502, 503])
    return Page(loopback.add(body=f"<h1>error {status}</h1>", status=status), None, f"answers {status}")


def refused_page(loopback: LoopbackServer) -> Page:
    return Page(loopback.refused_url(), None, "refuses the connection")


def dropped_page(loopback: LoopbackServer) -> Page:
    return Page(loopback.add(drop=True), None, "hangs up without answering")


def too_slow_page(loopback: LoopbackServer) -> Page:
    url = loopback.add(body="too late", delay=TOO_SLOW)
    return Page(url, None, f"answers 200 only after {TOO_SLOW:g} s, beyond timeout={TIMEOUT:g}")


def bodies_of(answer: dict) -> dict[str, bytes]:
    """The probe's description of download_all()'s result, checked to be {str: bytes}."""
    assert answer["type"] == "dict", (
        f"download_all() returned a {answer['type']}; it must return a dict {{url: body}}"
    )
    odd_entries = ", ".join(f"{key} -> {value}" for key, value in answer["odd_entries"])
    assert not odd_entries, (
        "every entry of the result must map a URL (str) to its body (bytes: response.content,"
        f" not response.text); found {odd_entries}"
    )
    return {url: body.encode("latin-1") for url, body in answer["bodies"].items()}


def examples(pages: list[Page]) -> str:
    shown = "; ".join(str(page) for page in pages[:3])
    return shown + (f" and {len(pages) - 3} more" if len(pages) > 3 else "")


def assert_downloaded(got: dict[str, bytes], pages: list[Page]) -> None:
    """The result holds exactly the pages that answer 2xx, each with its exact body."""
    by_url = {page.url: page for page in pages}
    wanted = [page for page in pages if page.body is not None]
    missing = [page for page in wanted if page.url not in got]
    kept = [by_url[url] for url in got if url in by_url and by_url[url].body is None]
    strangers = [url for url in got if url not in by_url]
    wrong = [page for page in wanted if page.url in got and got[page.url] != page.body]
    problems = []
    if missing:
        problems.append(diagnose.urls_missing(len(missing), len(wanted), examples(missing)))
    if kept:
        problems.append(diagnose.failed_urls_kept(examples(kept)))
    if strangers:
        problems.append(f"the result has keys that are not among the given URLs: {strangers[:3]}")
    if wrong:
        page = wrong[0]
        problems.append(diagnose.wrong_body(len(wrong), page.url, got[page.url], page.body))
    if problems:  # raised, not asserted: pytest would append the whole list again
        raise AssertionError("\n".join(problems))


def paths_of(loopback: LoopbackServer, pages: list[Page]) -> set[str]:
    """The pages' paths, as the server's request records name them."""
    return {page.url.removeprefix(loopback.base_url) for page in pages}


def ran_together(one: RequestRecord, other: RequestRecord) -> bool:
    """Whether the server was handling both requests at some moment."""
    return one is not other and one.started < other.finished and other.started < one.finished


def most_at_once(records: list[RequestRecord]) -> int:
    """The most of these requests the server was handling at one moment."""
    # A request that finished at the very moment another started did not overlap it.
    events = [(record.started, 1) for record in records] + [(record.finished, -1) for record in records]
    in_flight = peak = 0
    for _, change in sorted(events):
        in_flight += change
        peak = max(peak, in_flight)
    return peak


def download(student: Sandbox, pages: list[Page], max_concurrent: int) -> dict[str, bytes]:
    answer = student.call("download", urls=[page.url for page in pages], max_concurrent=max_concurrent)
    return bodies_of(answer)


def download_despite_failures(
    student: Sandbox, pages: list[Page], max_concurrent: int, download_timeout: float | None,
    prompt: float | None = None,
) -> tuple[dict[str, bytes], float]:
    """download_all(urls, max_concurrent, download_timeout) and the seconds it took, with the two
    ways a failing URL can take everything down phrased for the student. With `prompt`, a call
    still running after that many seconds has failed already: it is cut short there, as too slow
    or stuck (the stacks tell which)."""
    failing = sum(page.body is None for page in pages)
    try:
        answer, seconds = student.timed_call(
            "download", urls=[page.url for page in pages], max_concurrent=max_concurrent,
            download_timeout=download_timeout, timeout=DEADLOCK_AFTER if prompt is None else prompt,
        )
    except StudentCodeHung as hang:
        if prompt is not None:
            raise AssertionError(
                f"{diagnose.timeout_ignored_or_slots_lost(download_timeout, prompt, failing, max_concurrent, 0.2)}"
                f" The stacks below show which.\n{hang}"
            ) from None
        raise AssertionError(f"{diagnose.slots_lost_deadlock(failing, max_concurrent)}\n{hang}") from None
    except NotImplementedYet:
        raise
    except StudentCodeError as error:
        raise AssertionError(f"{diagnose.failure_stops_everything(error.type)}\n{error}") from None
    return bodies_of(answer), seconds


# -- correctness ----------------------------------------------------------------------------


@pytest.mark.group("correctness")
def test_every_body_comes_back_byte_for_byte(student, loopback, rng):
    pages = [good_page(loopback, rng, delay=rng.uniform(0, 0.05)) for _ in range(rng.randint(4, 10))]
    pages.append(good_page(loopback, rng, size=0))  # an empty body is a body: `if response.content:` loses it
    pages.append(good_page(loopback, rng, size=rng.randint(100_000, 300_000)))
    pages.append(good_page(loopback, rng, status=rng.choice([201, 203])))  # every 2xx is a success
    rng.shuffle(pages)
    # One slot, the edge of the range: a semaphore that is one slot short has none left here.
    assert_downloaded(download(student, pages, max_concurrent=1), pages)


@pytest.mark.group("correctness")
def test_no_urls_give_an_empty_dict(student, rng):
    max_concurrent = rng.randint(1, 5)
    got = bodies_of(student.call("download", urls=[], max_concurrent=max_concurrent))
    assert got == {}, f"download_all([], {max_concurrent}) returned {len(got)} entries, expected {{}}"


@pytest.mark.group("correctness")
def test_max_concurrent_below_one_is_a_value_error(student, loopback, rng):
    urls = [good_page(loopback, rng).url for _ in range(rng.randint(2, 4))]
    for max_concurrent in (0, -1, -rng.randint(2, 5)):
        for given in ([], urls):
            call = f"download_all({len(given)} URLs, max_concurrent={max_concurrent})"
            try:
                answer = student.call(
                    "rejection", urls=given, max_concurrent=max_concurrent, timeout=DEADLOCK_AFTER
                )
            except StudentCodeHung as hang:
                raise AssertionError(f"{diagnose.no_value_error_deadlock(call)}\n{hang}") from None
            assert answer["raised"] == "ValueError", diagnose.no_value_error(call, answer["returned"]["type"])
    assert not loopback.requests, (
        f"download_all() sent {len(loopback.requests)} requests although max_concurrent was below 1:"
        " raise ValueError before downloading anything"
    )


# -- limit ----------------------------------------------------------------------------------


@pytest.mark.group("limit")
@pytest.mark.timing
def test_max_concurrent_requests_in_flight_and_never_more(student, loopback, schedules, rng):
    max_concurrent = rng.randint(2, 4)
    peaks = []
    for seed in schedules.seeds(LIMIT_SCHEDULES):
        # The long pages fill every slot at once. The quick ones come after them: a correct
        # solution makes them wait for a slot, a solution without a working limit sends them
        # while all the long ones are still in flight. Many waiting threads give a limit that
        # races many chances to let one too many through.
        pages = [good_page(loopback, rng, delay=LONG) for _ in range(max_concurrent)]
        quick_count = rng.randint(2 * max_concurrent, 3 * max_concurrent)
        pages += [good_page(loopback, rng, delay=QUICK) for _ in range(quick_count)]
        loopback.reset()
        answer = student.call(
            "download_under_forced_interleavings",
            urls=[page.url for page in pages], max_concurrent=max_concurrent, seed=seed,
        )
        assert_downloaded(bodies_of(answer), pages)
        peaks.append(loopback.peak_in_flight)
    assert max(peaks) <= max_concurrent, (
        f"more than {max_concurrent} requests in flight: with max_concurrent={max_concurrent} the"
        f" server saw up to {max(peaks)} at once (peak per forced schedule: {peaks}). Create one"
        " threading.Semaphore(max_concurrent) in download_all(), share it by all threads, and"
        " hold it around each request; a counter of your own needs a lock around checking and"
        f" taking a slot. ({schedules.replay_hint()})"
    )
    assert max(peaks) == max_concurrent, (
        f"not concurrent: with max_concurrent={max_concurrent} and {max_concurrent} URLs that take"
        f" {LONG:g} s each, at most {max(peaks)} request(s) were in flight at once (peak per"
        f" forced schedule: {peaks}). Start the downloads on threads (or a pool) so that"
        f" {max_concurrent} of them run at the same time; start every thread before joining any."
    )


# -- sliding window -------------------------------------------------------------------------


@pytest.mark.group("sliding_window")
@pytest.mark.timing
def test_a_free_slot_goes_to_the_next_url_at_once(student, loopback, rng):
    max_concurrent = rng.randint(2, 5)
    slow_count = rng.randint(1, max_concurrent - 1)
    free_slots = max_concurrent - slow_count
    # Slow URLs in the middle, quick ones on both sides: whichever way a correct solution walks
    # the list, quick downloads are still waiting when the slow ones start.
    slow = [good_page(loopback, rng, delay=SLOW) for _ in range(slow_count)]
    pages = [good_page(loopback, rng, delay=QUICK) for _ in range(3 * free_slots)]
    pages += slow + [good_page(loopback, rng, delay=QUICK) for _ in range(3 * free_slots)]

    assert_downloaded(download(student, pages, max_concurrent), pages)

    # A batch ends only when its slowest member does, so nothing outside its batch ever runs
    # beside a slow request; in a sliding window the free slots go on with the quick URLs.
    records = loopback.requests
    slow_paths = paths_of(loopback, slow)
    slow_records = [record for record in records if record.path in slow_paths]
    beside = max(sum(ran_together(record, other) for other in records) for record in slow_records)
    assert beside >= max_concurrent, (
        diagnose.batches(SLOW, beside, slow_count, max_concurrent, len(pages) - slow_count))


# -- failures -------------------------------------------------------------------------------


@pytest.mark.group("failures")
def test_failed_urls_are_left_out_and_never_stop_the_others(student, loopback, rng):
    pages = [good_page(loopback, rng, delay=rng.uniform(0, 0.15)) for _ in range(rng.randint(3, 6))]
    pages += [error_status_page(loopback, rng) for _ in range(rng.randint(1, 3))]
    pages += [refused_page(loopback), dropped_page(loopback), too_slow_page(loopback)]
    rng.shuffle(pages)

    max_concurrent = rng.randint(2, 4)
    # A call slower than PROMPT fails whatever it returns, so it is not waited for beyond that.
    got, seconds = download_despite_failures(student, pages, max_concurrent, download_timeout=TIMEOUT,
                                             prompt=PROMPT)

    assert_downloaded(got, pages)
    assert seconds < PROMPT, diagnose.timeout_ignored(TIMEOUT, seconds, 0.2)


@pytest.mark.group("failures")
def test_a_failed_request_gives_its_slot_back(student, loopback, rng):
    max_concurrent = rng.randint(2, 4)
    # More requests fail than there are slots, and they come first: a slot that is not given
    # back on an error leaves none for the good URLs after them (the call then never ends).
    failing = [dropped_page(loopback) for _ in range(max_concurrent + rng.randint(1, 2))]
    failing += [error_status_page(loopback, rng) for _ in range(rng.randint(1, 2))]
    rng.shuffle(failing)
    # Twice as many good URLs as slots: whatever the number of failures before them, a
    # downloader that works in batches of max_concurrent gets one batch of good URLs only, so
    # batches (judged by the sliding window check) never look like lost slots here.
    good = [good_page(loopback, rng, delay=LONG) for _ in range(2 * max_concurrent)]

    got, _ = download_despite_failures(student, failing + good, max_concurrent, download_timeout=None)

    assert_downloaded(got, failing + good)
    good_paths = paths_of(loopback, good)
    good_at_once = most_at_once([record for record in loopback.requests if record.path in good_paths])
    assert good_at_once >= max_concurrent, (
        diagnose.slots_lost(len(failing), good_at_once, len(good), max_concurrent))
