"""Quick checks for downloader.py. Run: python -m pytest exercises/03_semaphore

The `loopback` fixture is a small web server on your own machine (127.0.0.1). It can answer
slowly, fail or hang up on cue, and it counts how many of your requests it is handling at the
same moment, so your code cannot be more or less concurrent than it looks. The hidden grading
suite checks the same things more thoroughly (random sizes, more schedules, more failures).
"""

import time

import pytest

import downloader
from student_runtime.preempt import forced_interleavings


def test_every_body_comes_back_byte_for_byte(loopback):
    bodies = [b"hello", "h\u00e9llo".encode(), bytes(range(256)), b""]
    urls = [loopback.add(body=body) for body in bodies]

    assert downloader.download_all(urls, 2) == dict(zip(urls, bodies))


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
        assert peak <= 3, schedules.failure(f"more than 3 requests in flight: the server saw {peak} at once.", block)
        assert peak == 3, f"not concurrent: at most {peak} request(s) were in flight at once, but 3 may be"


@pytest.mark.timing
def test_a_free_slot_goes_to_the_next_url_at_once(loopback):
    quick = [loopback.add(body="quick", delay=0.02) for _ in range(4)]
    slow = loopback.add(body="slow", delay=0.6)

    downloader.download_all([*quick[:2], slow, *quick[2:]], 2)

    # In batches of 2, the slow URL's batch-mate is all that ever runs beside it.
    records = loopback.requests
    (slow_record,) = [record for record in records if loopback.base_url + record.path == slow]
    beside = [
        record
        for record in records
        if record is not slow_record
        and record.started < slow_record.finished
        and slow_record.started < record.finished
    ]
    assert len(beside) >= 2, (
        f"sliding window broken: while the slow URL took 0.6 s, only {len(beside)} other request(s)"
        " ran beside it although a slot was free for the quick ones: do not wait for a whole batch"
    )


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
    got = downloader.download_all(failing + list(good), len(failing) + 1, timeout=0.3)
    seconds = time.perf_counter() - started

    assert got == good, "only the two URLs that answer 200 belong in the result"
    assert seconds < 1.5, (
        f"download_all(..., timeout=0.3) took {seconds:.1f} s: give up on a URL after timeout seconds"
    )


def test_a_failed_request_gives_its_slot_back(loopback):
    # Fewer failures than slots, so that a lost slot slows this test down instead of hanging
    # it; the hidden suite also fails more requests than there are slots.
    dropped = [loopback.add(drop=True) for _ in range(3)]
    good = [loopback.add(body="good", delay=0.4) for _ in range(4)]

    downloader.download_all(dropped + good, 4)

    good_records = [record for record in loopback.requests if loopback.base_url + record.path in good]
    first_done = min(record.finished for record in good_records)
    at_once = sum(record.started < first_done for record in good_records)
    assert at_once == 4, (
        f"slots lost: after 3 failed requests only {at_once} of the 4 good URLs ran at once with"
        " max_concurrent=4. A failed request must give its slot back: use `with semaphore:`"
    )


@pytest.mark.parametrize("max_concurrent", [0, -1])
def test_max_concurrent_below_one_is_a_value_error(max_concurrent):
    with pytest.raises(ValueError):
        downloader.download_all([], max_concurrent)
