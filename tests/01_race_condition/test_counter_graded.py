"""Hidden suite for 01_race_condition: a Counter that never loses an update."""

import random

import pytest

SCHEDULES = 5  # forced schedules per race check; one lost update anywhere fails the check


@pytest.mark.group("correctness")
def test_counter_counts_on_one_thread(student):
    amounts = [random.randint(1, 9) for _ in range(random.randint(3, 8))] + [1]
    values = student.call("single_thread_values", amounts=amounts)
    expected = [sum(amounts[:i]) for i in range(len(amounts) + 1)]
    assert values == expected, (
        f"after Counter() and increment() with amounts {amounts} the values were {values},"
        f" expected {expected}"
    )


@pytest.mark.group("correctness")
def test_count_in_threads_returns_the_total(student):
    n_threads, increments = random.randint(2, 6), random.randint(500, 3000)
    total = student.call("count_in_threads", n_threads=n_threads, increments=increments)
    assert total == n_threads * increments, (
        f"count_in_threads({n_threads}, {increments}) returned {total!r},"
        f" expected {n_threads * increments}"
    )


@pytest.mark.group("races")
@pytest.mark.parametrize("probe", ["shared_counter_under_preemption", "count_in_threads_under_preemption"])
def test_no_update_is_ever_lost(student, schedules, probe):
    n_threads, increments = 4, random.randint(150, 250)
    expected = n_threads * increments
    finals = student.call(probe, seeds=schedules.seeds(SCHEDULES), n_threads=n_threads, increments=increments)
    lost = [(seed, final) for seed, final in zip(schedules.seeds(SCHEDULES), finals) if final != expected]
    assert not lost, (
        f"lost update: {n_threads} threads x {increments} increments should give {expected},"
        f" got {', '.join(str(final) for _, final in lost)} in {len(lost)} of {SCHEDULES} forced"
        f" schedules. Another thread ran between reading and writing the value: hold one lock"
        f" around the whole read-modify-write. ({schedules.replay_hint()})"
    )


@pytest.mark.group("concurrency")
def test_threads_run_at_the_same_time(student):
    n_threads = random.randint(3, 6)
    seen = student.call("thread_overlap", n_threads=n_threads, increments=50, patience=3.0)
    assert seen["threads"] == n_threads, (
        f"count_in_threads({n_threads}, 50) called increment() from {seen['threads']} threads,"
        f" expected {n_threads}"
    )
    assert seen["peak"] == n_threads, (
        f"not concurrent: at most {seen['peak']} of count_in_threads()'s {n_threads} threads"
        " were running at once. Start every thread first, then join them in a second loop."
    )
    assert seen["total"] == n_threads * 50, f"count_in_threads({n_threads}, 50) returned {seen['total']}"
