"""Hidden suite for 01_race_condition: a Counter that never loses an update.

Every random number comes from the `rng` fixture, so a failure replayed with `--seed` gets the
same inputs. The inputs a classic mistake trips on (the default amount, 1, 0, negative and
large amounts, one thread, no increments, more threads than a default thread pool holds) are
in every run, so randomness never decides whether a mistake is seen.
"""

import random

import pytest

SCHEDULES = 5  # forced schedules per race check; one lost update anywhere fails the check
DEFAULT = None  # an increment() called without an amount
# More threads than any machine's default ThreadPoolExecutor runs at once (at most 32).
MANY_THREADS = 40


def amounts_to_add(rng: random.Random) -> list[int | None]:
    """The edge amounts, each in every run, among a few random ones, in random order."""
    edges = [DEFAULT, 1, 0, -1, -rng.randint(2, 9), rng.randint(10**3, 10**6)]
    amounts = edges + [rng.randint(2, 9) for _ in range(rng.randint(2, 5))]
    rng.shuffle(amounts)
    return amounts


def spelled(amount: int | None) -> str:
    return "increment()" if amount is DEFAULT else f"increment({amount})"


def what_increment_adds(amount: int | None) -> str:
    if amount is DEFAULT:
        return "increment() without an amount adds 1."
    return "increment(amount) adds the amount, whatever int it is: 0 and negative ones too."


@pytest.mark.group("correctness")
def test_counter_counts_on_one_thread(student, rng):
    amounts = amounts_to_add(rng)
    seen = student.call("single_thread_values", amounts=amounts)
    values, calls = seen["values"], f"Counter(), then {', '.join(map(spelled, amounts))}"
    expected = [0]
    for amount in amounts:
        expected.append(expected[-1] + (1 if amount is DEFAULT else amount))
    assert values[0] == 0, f"a new Counter() has the value {values[0]!r}, expected 0"
    for step, value in enumerate(values[1:], start=1):
        assert value == expected[step], (
            f"{spelled(amounts[step - 1])} took the value from {values[step - 1]!r} to {value!r},"
            f" expected {expected[step]}. {what_increment_adds(amounts[step - 1])}"
            f" (The calls, in this order: {calls}.)"
        )
    if seen["raised"] is not None:
        amount = amounts[len(values) - 1]
        raise AssertionError(
            f"{spelled(amount)} raised {seen['raised']}. {what_increment_adds(amount)}"
            f" (The calls, in this order: {calls}.)"
        )


@pytest.mark.group("correctness")
def test_count_in_threads_returns_the_total(student, rng):
    cases = [(1, rng.randint(500, 3000)), (rng.randint(2, 6), 0), (rng.randint(2, 6), 1),
             (rng.randint(2, 6), rng.randint(500, 3000))]
    for n_threads, increments in cases:
        total = student.call("count_in_threads", n_threads=n_threads, increments=increments)
        assert total == n_threads * increments, (
            f"count_in_threads({n_threads}, {increments}) returned {total!r},"
            f" expected {n_threads} x {increments} = {n_threads * increments}"
        )


@pytest.mark.group("races")
@pytest.mark.parametrize("probe", ["shared_counter_under_preemption", "count_in_threads_under_preemption"])
def test_no_update_is_ever_lost(student, schedules, rng, probe):
    n_threads, increments = 4, rng.randint(150, 250)
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
def test_threads_run_at_the_same_time(student, rng):
    for n_threads in (rng.randint(2, 6), MANY_THREADS):
        seen = student.call("thread_overlap", n_threads=n_threads, increments=50, patience=3.0)
        assert seen["threads"] == n_threads, (
            f"count_in_threads({n_threads}, 50) called increment() from {seen['threads']} different"
            f" thread{'s' if seen['threads'] != 1 else ''}, expected {n_threads}: start n_threads threads"
            " (a thread pool with fewer threads makes the rest of the work wait its turn)"
        )
        assert seen["peak"] == n_threads, (
            f"not concurrent: at most {seen['peak']} of count_in_threads({n_threads}, 50)'s"
            f" {n_threads} threads were running at once. Start every thread first, then join them"
            " in a second loop."
        )
        assert seen["total"] == n_threads * 50, (
            f"count_in_threads({n_threads}, 50) returned {seen['total']!r}, expected {n_threads * 50}"
        )
