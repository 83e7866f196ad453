"""Hidden suite for 01_race_condition: a Counter that never loses an update.

Every random number comes from the `rng` fixture, so a failure replayed with `--seed` gets the
same inputs. The inputs a classic mistake trips on (the default amount, 1, 0, negative and
large amounts, one thread, no increments, more threads than a default thread pool holds) are
in every run, so randomness never decides whether a mistake is seen.
"""

import importlib.util
import random
from pathlib import Path

import pytest

from student_runtime.diagnoses import ex01_race_condition as diagnose
from student_runtime.race_story import first_story

SCHEDULES = 5  # forced schedules per race check; one lost update anywhere fails the check
THREADS = 4  # threads per race check
DEFAULT = None  # an increment() called without an amount
# More threads than any machine's default ThreadPoolExecutor runs at once (at most 32).
MANY_THREADS = 40


def _load_probes():
    """probes.py beside this file, under a name of its own (every exercise has a probes.py):
    the race checks' plan must be the very function the trusted threads draw from."""
    path = Path(__file__).with_name("probes.py")
    spec = importlib.util.spec_from_file_location(f"probes_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROBES = _load_probes()


def amounts_to_add(rng: random.Random) -> list[int | None]:
    """The edge amounts, each in every run, among a few random ones, in random order."""
    edges = [DEFAULT, 1, 0, -1, -rng.randint(2, 9), rng.randint(10**3, 10**6)]
    amounts = edges + [rng.randint(2, 9) for _ in range(rng.randint(2, 5))]
    rng.shuffle(amounts)
    return amounts


@pytest.mark.group("correctness")
def test_counter_counts_on_one_thread(student, rng):
    amounts = amounts_to_add(rng)
    seen = student.call("single_thread_values", amounts=amounts)
    values, calls = seen["values"], f"Counter(), then {', '.join(map(diagnose.spelled, amounts))}"
    expected = [0]
    for amount in amounts:
        expected.append(expected[-1] + (1 if amount is DEFAULT else amount))
    assert values[0] == 0, diagnose.new_counter_not_zero(values[0])
    for step, value in enumerate(values[1:], start=1):
        assert value == expected[step], diagnose.increment_wrong(amounts[step - 1], values[step - 1], value,
                                                                 expected[step], calls)
    if seen["raised"] is not None:
        raise AssertionError(diagnose.increment_raised(amounts[len(values) - 1], seen["raised"], calls))


@pytest.mark.group("correctness")
def test_count_in_threads_returns_the_total(student, rng):
    cases = [(1, rng.randint(500, 3000)), (rng.randint(2, 6), 0), (rng.randint(2, 6), 1),
             (rng.randint(2, 6), rng.randint(500, 3000))]
    for n_threads, increments in cases:
        total = student.call("count_in_threads", n_threads=n_threads, increments=increments)
        assert total == n_threads * increments, diagnose.wrong_total(n_threads, increments, total)


@pytest.mark.group("races")
@pytest.mark.parametrize("probe", ["shared_counter_under_preemption", "count_in_threads_under_preemption"])
def test_no_update_is_ever_lost(student, exercise, schedules, rng, probe):
    # The amounts come from plans drawn here: the trusted threads (or, in the student's own
    # count_in_threads, the Counter.increment() calls) draw them live from seeds that nothing in
    # the student's reach holds, so the total is known here only.
    seeds = schedules.seeds(SCHEDULES)
    if probe == "shared_counter_under_preemption":
        plans = [[rng.getrandbits(32), rng.randint(150, 250)] for _ in range(THREADS)]
        expected = sum(planned_total(*thread_plan) for thread_plan in plans)
        outcomes = student.call(probe, seeds=seeds, plans=plans)
        finals = [outcome["value"] for outcome in outcomes]
        what = (f"{THREADS} threads making {', '.join(str(count) for _, count in plans)} calls of increment()"
                " and increment(amount) on one shared Counter")
    else:
        n_threads, increments, plan_seed = THREADS, rng.randint(150, 250), rng.getrandbits(32)
        expected = planned_total(plan_seed, n_threads * increments)
        reports = student.call(probe, seeds=seeds, n_threads=n_threads, increments=increments, plan_seed=plan_seed)
        what = f"count_in_threads({n_threads}, {increments}), each increment() given an amount by the grader,"
        for report in reports:
            assert_counts_with_one_counter(report, n_threads, increments)
        outcomes, finals = reports, [report["returned"] for report in reports]
    lost = [final for final in finals if final != expected]
    assert not lost, " ".join(filter(None, [
        f"lost update: {what} should give {expected}, got {', '.join(map(str, lost))} in {len(lost)} of"
        f" {SCHEDULES} forced schedules. Another thread ran between reading and writing the value: hold one"
        " lock around the whole read-modify-write.",
        first_story(f"{exercise.module}.py", [o["pause"] for o, final in zip(outcomes, finals) if final != expected]),
        f"({schedules.replay_hint()})"]))



def planned_total(seed: int, count: int) -> int:
    """What the increments of the probes' plan(seed, count) add up to."""
    return sum(1 if amount is DEFAULT else amount for amount in PROBES.plan(seed, count))


def assert_counts_with_one_counter(report: dict, n_threads: int, increments: int) -> None:
    """count_in_threads made its n x k calls on one Counter and returned that Counter's value."""
    what, calls = f"count_in_threads({n_threads}, {increments})", n_threads * increments
    assert report["calls"] == calls, (
        f"{what} called Counter.increment() {report['calls']} times, expected {n_threads} x {increments} ="
        f" {calls}: each thread calls increment() increments_per_thread times"
    )
    assert len(report["values"]) == 1, (
        f"{what} called increment() on {len(report['values'])} different Counter objects, expected one"
        " Counter shared by every thread"
    )
    assert report["returned"] == report["values"][0], (
        f"{what} returned {report['returned']!r}, but the Counter its threads incremented holds"
        f" {report['values'][0]!r}: return the shared Counter's value"
    )


@pytest.mark.group("concurrency")
def test_threads_run_at_the_same_time(student, rng):
    for n_threads in (rng.randint(2, 6), MANY_THREADS):
        seen = student.call("thread_overlap", n_threads=n_threads, increments=50, patience=3.0)
        assert seen["threads"] == n_threads, diagnose.too_few_threads(n_threads, 50, seen["threads"])
        assert seen["peak"] == n_threads, diagnose.threads_one_after_another(n_threads, 50, seen["peak"])
        assert seen["total"] == n_threads * 50, diagnose.wrong_total(n_threads, 50, seen["total"])
