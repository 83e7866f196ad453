"""Quick checks for downloader.py. Run: python -m pytest exercises/03_semaphore

The `loopback` fixture is a small web server on your own machine (127.0.0.1). It can answer
slowly, fail or hang up on cue, and it counts how many of your requests it is handling at the
same moment, so your code cannot be more or less concurrent than it looks. The hidden grading
suite checks the same things more thoroughly (random sizes, more schedules, more failures).
"""

import time

import pytest

import downloader
from student_runtime.diagnoses import ex03_semaphore as diagnose
from student_runtime.preempt import forced_interleavings


def assert_only(got: dict, wanted: dict) -> None:
    """download_all() returned exactly `wanted`, {url: body}; the others failed."""
    missing = [url for url in wanted if url not in got]
    assert not missing, diagnose.urls_missing(len(missing), len(wanted), ", ".join(missing))
    kept = [url for url in got if url not in wanted]
    assert not kept, diagnose.failed_urls_kept(", ".join(kept))
    wrong = [url for url in wanted if got[url] != wanted[url]]
    assert not wrong, diagnose.wrong_body(len(wrong), wrong[0], got[wrong[0]], wanted[wrong[0]])


def download_despite_failures(urls: list[str], max_concurrent: int, **timeout: float) -> dict:
    """download_all(), failing kindly when a failed URL escapes it."""
    try:
        return downloader.download_all(urls, max_concurrent, **timeout)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(diagnose.failure_stops_everything(type(error).__name__)) from None


def test_every_body_comes_back_byte_for_byte(loopback):
    bodies = [b"hello", "h\u00e9llo".encode(), bytes(range(256)), b""]
    urls = [loopback.add(body=body) for body in bodies]

    assert_only(downloader.download_all(urls, 2), dict(zip(urls, bodies)))


def test_max_concurrent_requests_in_flight_and_never_more(loopback, schedules):
    # Three slow URLs fill the three slots; the quick ones must wait until a slot is free.
    urls = [loopback.add(body="slow", delay=0.5) for _ in range(3)]
    urls += [loopback.add(body="quick", delay=0.02) for _ in range(6)]
    # Forced thread switches at random points of your code, so that a limit that races shows.
    for seed in schedules.seeds(2):
        loopback.reset()
        with forced_interleavings([downloader], seed) as block:
            downloader.download_all(urls, 3)
        peak = loopback.peak_in_flight
        if peak > 3:
            loopback.reset()
            downloader.download_all(urls, 3)  # again, with no switch forced
            raise AssertionError(schedules.failure(f"more than 3 requests in flight: the server saw {peak} at once.",
                                                   block, without_switches=loopback.peak_in_flight > 3))
        assert peak == 3, f"not concurrent: at most {peak} request(s) were in flight at once, but 3 may be"


@pytest.mark.timing
def test_a_free_slot_goes_to_the_next_url_at_once(loopback):
    quick = [loopback.add(body="quick", delay=0.02) for _ in range(4)]
    slow = loopback.add(body="slow", delay=0.6)

    downloader.download_all([*quick[:2], slow, *quick[2:]], 2)

    # In batches of 2, the slow URL's batch-mate is all that ever runs beside it.
    records = loopback.requests
    (slow_record,) = [record for record in records if loopback.base_url + record.path == slow]
    beside = sum(
        record is not slow_record and record.started < slow_record.finished and slow_record.started < record.finished
        for record in records
    )
    assert beside >= 2, diagnose.batches(0.6, beside, 1, 2, len(quick))


@pytest.mark.timing
def test_failed_urls_are_left_out(loopback):
    good = {loopback.add(body=f"page {number}"): f"page {number}".encode() for number in range(2)}
    failing = [
        loopback.add(status=404),
        loopback.add(status=500),
        loopback.refused_url(),
        loopback.add(drop=True),
        loopback.add(body="too late", delay=2.0),
    ]
    # One slot more than failing URLs, so that this test ends even if a failed request keeps
    # its slot (the next test checks that it does not).
    started = time.perf_counter()
    got = download_despite_failures(failing + list(good), len(failing) + 1, timeout=0.3)
    seconds = time.perf_counter() - started

    assert_only(got, good)
    assert seconds < 1.5, diagnose.timeout_ignored(0.3, seconds, 0.1)


def test_a_failed_request_gives_its_slot_back(loopback):
    # Fewer failures than slots, so that a lost slot slows this test down instead of hanging
    # it; the hidden suite also fails more requests than there are slots.
    dropped = [loopback.add(drop=True) for _ in range(3)]
    good = [loopback.add(body="good", delay=0.4) for _ in range(4)]

    download_despite_failures(dropped + good, 4)

    good_records = [record for record in loopback.requests if loopback.base_url + record.path in good]
    first_done = min(record.finished for record in good_records)
    at_once = sum(record.started < first_done for record in good_records)
    assert at_once == 4, diagnose.slots_lost(3, at_once, 4, 4)


@pytest.mark.parametrize("max_concurrent", [0, -1])
def test_max_concurrent_below_one_is_a_value_error(max_concurrent):
    try:
        returned = downloader.download_all([], max_concurrent)
    except ValueError:
        return
    raise AssertionError(diagnose.no_value_error(f"download_all(0 URLs, max_concurrent={max_concurrent})",
                                                 type(returned).__name__))
