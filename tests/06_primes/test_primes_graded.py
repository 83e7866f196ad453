"""Hidden suite for 06_primes: correct prime checks, on threads and processes, really parallel."""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import time
from functools import partial
from typing import Any

import pytest

from grader.harness.sandbox import (
    NotImplementedYet,
    Sandbox,
    StudentCodeError,
    StudentCodeHung,
    SubmissionFailure,
)
from grader.harness.timing import (
    Speedup,
    best_speedups,
    frozen,
    judge_speedup,
    restore_affinity,
)
from student_runtime.diagnoses import ex06_primes as diagnose
from student_runtime.race_story import first_story

SCHEDULES = 3  # forced schedules for the race check of check_threads
PATIENCE = 5  # seconds a pool's first workers wait for the others (a correct pool: well under 1 s)
SLOW_IS_PRIME = 30  # seconds for a few hundred numbers up to 10**12: far more than trial division needs
POOL_TIMEOUT = 30  # seconds for one check_processes call; a broken pool can hang instead of raising
CARMICHAEL = [561, 1105, 1729, 2465, 2821, 6601, 8911, 10585, 15841, 29341]  # they fool Fermat's test

# The speedup workload: numbers whose trial division costs the same (primes near MAGNITUDE and
# products of two primes near its square root), fresh for every timed call so that caching
# gains nothing. REFERENCE_NUMBERS of them take the reference's plain trial division about
# 0.25 s one after another (Python 3.11 on the 2-core grading machine): long enough that
# starting and stopping a pool (about 20 ms) is a small part of the parallel time, short
# enough for several interleaved rounds, which make it likelier that every candidate is
# measured at least once while no other program is busy. A faster is_prime gets more numbers.
MAGNITUDE = 45_000_000_000
REFERENCE_NUMBERS = 36
MAX_NUMBERS = 1000
SPEEDUP_ROUNDS = 9


# -- a trusted primality test and the inputs ----------------------------------------------------


def trusted_is_prime(n: int) -> bool:
    """Miller-Rabin with the first 12 prime bases: exact for every n below 3.3 * 10**24."""
    if n < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    if n in bases:
        return True
    if any(n % base == 0 for base in bases):
        return False
    odd, twos = n - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in bases:
        x = pow(base, odd, n)
        if x in (1, n - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(rng: random.Random, low: int, high: int) -> int:
    while True:
        candidate = rng.randint(low, high)
        if trusted_is_prime(candidate):
            return candidate


def smallest_factor(n: int) -> int:
    return next(d for d in range(2, math.isqrt(n) + 1) if n % d == 0)


def factor_of(n: int) -> int | None:
    """The smallest factor of a number that has one; None for a prime and below 2."""
    return None if n < 2 or trusted_is_prime(n) else smallest_factor(n)


# In every input of is_prime and of the check_* functions: what a classic mistake trips on
# (below 2, 2 and 3, squares of primes, a value a student might take for "no answer yet").
ALWAYS = [-7, -1, 0, 1, 2, 3, 4, 9, 25]


def edge_numbers(rng: random.Random) -> list[int]:
    small_primes = [p for p in range(2, 100) if trusted_is_prime(p)]
    squares = [p * p for p in small_primes]  # 4, 9, 25, 49: the square root itself is the divisor
    twin_products = [p * (p + 2) for p in small_primes if trusted_is_prime(p + 2)]  # 15, 35, 143
    numbers = [-rng.randint(3, 10**6), -2, -1, 0, 1, 2, 3, 5, 7, 2**31 - 1,
               *squares, *twin_products, *CARMICHAEL]
    rng.shuffle(numbers)
    return numbers


def random_numbers(rng: random.Random) -> list[int]:
    numbers = (
        rng.sample(range(-20, 20_000), 300)
        + [rng.randint(10**6, 10**9) for _ in range(20)]
        + [random_prime(rng, 10**11, 10**12) for _ in range(4)]
        + [random_prime(rng, 10**5, 10**6) * random_prime(rng, 10**5, 10**6) for _ in range(4)]
        + [random_prime(rng, 10**4, 10**6) ** 2 for _ in range(4)]
    )
    numbers = [n for n in numbers if n not in ALWAYS] + ALWAYS
    rng.shuffle(numbers)
    return numbers


def numbers_with_duplicates(rng: random.Random, count: int) -> list[int]:
    """`count` distinct numbers and a few large primes, ALWAYS among them, and a quarter of
    them again (the edge values always): the result must have one entry per distinct number."""
    distinct = [n for n in rng.sample(range(-5, 10**5), count) if n not in ALWAYS]
    distinct += ALWAYS + [random_prime(rng, 10**6, 10**9) for _ in range(3)]
    numbers = distinct + ALWAYS + rng.sample(distinct, count // 4)
    rng.shuffle(numbers)
    return numbers


def equal_cost_numbers(rng: random.Random, count: int) -> list[int]:
    """Primes near MAGNITUDE and, one in four, products of two primes near its square root.

    The two factors come from ranges 2% apart, so the smaller is well below the product's
    square root: a speedup input is never a square, nor a product of twin primes, the numbers
    on which a trial division that stops short of the square root goes wrong. An is_prime with
    that mistake fails the correctness group every time, and the speedup group measures speed
    on inputs whose answers do not depend on the draw."""
    root = math.isqrt(MAGNITUDE)
    return [
        random_prime(rng, root * 98 // 100, root * 99 // 100)
        * random_prime(rng, root * 101 // 100, root * 102 // 100) if index % 4 == 0
        else random_prime(rng, MAGNITUDE, MAGNITUDE * 102 // 100)
        for index in range(count)
    ]


# -- verdicts -----------------------------------------------------------------------------------


def require_no_problems(headline: str, problems: list[str], advice: str = "", shown: int = 5) -> None:
    if problems:
        raise AssertionError(diagnose.problems(headline, problems, advice, shown))


def wrong_flags(numbers: list[int], flags: list[Any]) -> list[int]:
    """The numbers whose flag is not the trusted answer (or not a bool at all)."""
    return [n for n, flag in zip(numbers, flags) if flag is not trusted_is_prime(n)]


def flag_problem(n: int, flag: Any) -> str:
    if type(flag) is bool:
        return diagnose.wrong_flag(n, f"returned {flag}", factor_of(n))
    if isinstance(flag, dict):
        return diagnose.wrong_flag(n, f"raised {flag['raised']}", factor_of(n))
    return f"is_prime({n}) returned {flag}; return True or False"


def flag_problems(numbers: list[int], flags: list[Any]) -> list[str]:
    flag_of = dict(zip(numbers, flags))
    return [flag_problem(n, flag_of[n]) for n in wrong_flags(numbers, flags)]


def edge_advice(wrong: list[int]) -> str:
    """What a student most likely got wrong, judging by which edge cases failed."""
    return diagnose.edge_advice(
        below_two=any(n < 2 for n in wrong), two_or_three=any(n in (2, 3) for n in wrong),
        no_divisor_below_root=any(n > 3 and factor_of(n) == math.isqrt(n) for n in wrong),
        carmichael=any(n in CARMICHAEL for n in wrong))


def mapping_problems(call: str, numbers: list[int], description: dict[str, Any]) -> list[str]:
    """What is wrong with a check_* result compared with {n: is_prime(n) for n in numbers}."""
    if description["pairs"] is None:
        return [diagnose.not_a_dict(call, description["type"])]
    answers = {n: trusted_is_prime(n) for n in numbers}
    seen = {key for key, _ in description["pairs"]}
    problems = [diagnose.missing_entry(call, n) for n in answers if n not in seen]
    for key, flag in description["pairs"]:
        if key not in answers:
            problems.append(diagnose.unexpected_key(call, key))
        elif type(flag) is not bool:
            problems.append(f"{call}[{key}] is {flag}; the values must be True or False")
        elif flag is not answers[key]:
            problems.append(diagnose.wrong_entry(call, key, flag, factor_of(key)))
    return problems


def require_correct_mapping(call: str, numbers: list[int], description: dict[str, Any], advice: str = "") -> None:
    require_no_problems("wrong result", mapping_problems(call, numbers, description), advice)


# -- correctness --------------------------------------------------------------------------------


@pytest.mark.group("correctness")
def test_is_prime_at_the_edges(student, rng):
    numbers = edge_numbers(rng)
    flags = student.call("is_prime_flags", numbers=numbers)
    require_no_problems("is_prime is wrong at the edges", flag_problems(numbers, flags),
                        edge_advice(wrong_flags(numbers, flags)))


@pytest.mark.group("correctness")
def test_is_prime_agrees_with_a_trusted_check(student, rng):
    numbers = random_numbers(rng)
    try:
        flags = student.call("is_prime_flags", numbers=numbers, timeout=SLOW_IS_PRIME)
    except StudentCodeHung as hang:
        raise AssertionError(f"{diagnose.too_slow(SLOW_IS_PRIME, len(numbers))}\n{hang}") from None
    require_no_problems("is_prime disagrees with a trusted primality test", flag_problems(numbers, flags),
                        edge_advice(wrong_flags(numbers, flags)))


@pytest.mark.group("correctness")
@pytest.mark.parametrize("function", ["check_sequential", "check_threads", "check_processes"])
def test_check_functions_map_every_number(student, function, rng):
    numbers = numbers_with_duplicates(rng, rng.randint(40, 80))
    workers = None if function == "check_sequential" else rng.randint(2, 4)
    call = f"{function}(<{len(numbers)} numbers>{'' if workers is None else f', {workers}'})"
    description = student.call("run_check", function=function, numbers=numbers, workers=workers)
    require_correct_mapping(call, numbers, description)


@pytest.mark.group("correctness")
def test_check_threads_uses_a_pool_of_workers_threads(student, rng):
    workers = rng.randint(2, 5)
    numbers = rng.sample(range(2, 10**5), 8 * workers)
    seen = student.call("thread_pool_usage", numbers=numbers, workers=workers, patience=PATIENCE)
    require_correct_mapping(f"check_threads(<{len(numbers)} numbers>, {workers})", numbers, seen["result"])
    assert seen["threads"] > 0, (
        "check_threads never called is_prime: the grader watches your module's is_prime to see"
        " which threads do the work, so call it (for example pool.map(is_prime, numbers))"
    )
    assert seen["threads"] <= workers and seen["peak"] <= workers, diagnose.not_a_thread_pool(
        workers, seen["threads"], seen["peak"])
    assert seen["peak"] == workers, diagnose.threads_not_concurrent(workers, seen["peak"])


@pytest.mark.group("correctness")
def test_check_threads_checks_each_number_once_under_forced_interleavings(student, schedules, exercise, rng):
    workers = rng.randint(3, 4)
    numbers = rng.sample(range(2, 1000), rng.randint(100, 140))  # short checks: many hand-outs
    call = f"check_threads(<{len(numbers)} numbers>, {workers})"
    runs = student.call("check_threads_under_preemption", seeds=schedules.seeds(SCHEDULES),
                        numbers=numbers, workers=workers)
    broken = [(problems, run) for run in runs if (problems := [
        *mapping_problems(call, numbers, run["result"]),
        *(f"is_prime({n}) ran {count} times: {count} threads took the same number" for n, count in run["repeated"]),
    ])]
    if broken:
        story = first_story(f"{exercise.module}.py", [run.get("pause") for _, run in broken])
        require_no_problems(
            f"race in check_threads: with thread switches forced at random points, {len(broken)} of"
            f" {SCHEDULES} schedules went wrong, the first one", broken[0][0],
            "Two threads took the same number, so it was checked twice and another number may have"
            " been skipped: hand out the work through a queue.Queue or a ThreadPoolExecutor, or hold"
            f" a lock while taking the next number. {story + ' ' if story else ''}({schedules.replay_hint()})",
        )


# -- start methods ------------------------------------------------------------------------------

def what_went_wrong(failure: SubmissionFailure) -> str:
    """The student's error without the pool's internal frames, which only say 'a worker failed'."""
    if isinstance(failure, StudentCodeError):
        return f"primes.py raised {failure.type}: {failure.detail}"
    return str(failure)


@pytest.mark.group("start_methods")
@pytest.mark.parametrize("start_method", multiprocessing.get_all_start_methods())
def test_check_processes_works_under_every_start_method(sandbox, start_method, rng):
    numbers = numbers_with_duplicates(rng, rng.randint(30, 60))
    workers = rng.randint(2, 3)
    call = f"check_processes(<{len(numbers)} numbers>, {workers}) under the '{start_method}' start method"
    box = sandbox("student", start_method=start_method)
    try:
        description = box.call("run_check", function="check_processes", numbers=numbers,
                               workers=workers, timeout=POOL_TIMEOUT)
    except NotImplementedYet:
        raise
    except SubmissionFailure as failure:
        happened = what_went_wrong(failure)
        raise AssertionError(diagnose.processes_failed(call, happened, start_method)) from None
    require_correct_mapping(call, numbers, description, diagnose.start_method_advice(start_method, ""))


# -- speedup ------------------------------------------------------------------------------------


def watched(box: Sandbox, numbers: list[int], workers: int, patience: float = PATIENCE) -> dict[str, Any]:
    """check_processes with every is_prime call watched (see probes.watched_check_processes),
    its result checked. `patience` only matters to how many workers are seen at once."""
    seen = box.call("watched_check_processes", numbers=numbers, workers=workers, patience=patience,
                    timeout=POOL_TIMEOUT)
    require_correct_mapping(f"check_processes(<{len(numbers)} numbers>, {workers})", numbers, seen["result"])
    return seen


def skip_unless_workers_can_be_watched(box: Sandbox, seen: dict[str, Any]) -> None:
    """Skip, saying why, when no worker reported a call because the grader could not watch
    workers started by spawn or forkserver; a pool that really called is_prime in workers, or
    any worker that reported in, shows that the watch works."""
    if seen["workers_seen"] or seen["hellos"] or box.call("worker_hook_works"):
        return
    pytest.skip("the grader cannot watch worker processes started by spawn or"
                " forkserver here (the sandbox does not run probes.in_worker() in them)")


@pytest.mark.group("speedup")
def test_check_processes_works_in_other_processes(student, rng):
    workers = rng.randint(2, 3)
    numbers = rng.sample(range(2, 10**6), 400)
    seen = watched(student, numbers, workers, patience=0)  # which numbers, not how many at once
    skip_unless_workers_can_be_watched(student, seen)
    unchecked = sorted(set(numbers) - set(seen["in_workers"]))
    assert not unchecked, diagnose.not_in_worker_processes(len(unchecked), len(numbers), unchecked,
                                                           seen["calls_here"])


@pytest.mark.group("speedup")
@pytest.mark.timing
@pytest.mark.parametrize("start_method", multiprocessing.get_all_start_methods())
def test_check_processes_keeps_its_workers_busy_at_once(sandbox, usable_cores, rng, start_method):
    # Not the size a pool picks by itself, so that ignoring `workers` shows.
    workers = rng.choice([n for n in (2, 3, 4) if n not in (os.cpu_count(), usable_cores)])
    numbers = rng.sample(range(2, 10**6), 8 * workers)
    box = sandbox("student", start_method=start_method)
    seen = watched(box, numbers, workers)
    skip_unless_workers_can_be_watched(box, seen)
    assert seen["peak"] == workers, diagnose.workers_not_busy_at_once(workers, seen["peak"], seen["workers_seen"],
                                                                      start_method)


def parallel_run(box: Sandbox, rng: random.Random, count: int, workers: int) -> Speedup:
    """check_processes on `count` fresh numbers, every is_prime call watched: the CPU time the
    calls took in worker processes, each number counted once (the time the same work takes one
    number after another), and the seconds the whole call took, timed here. Both come from the
    one real call, so a submission cannot tell a baseline apart and make it slower; work done
    outside is_prime or outside worker processes (a thread burning CPU beside it, a worker
    spinning between calls, the calling process), or CPU time taken away by other programs,
    does not count as work.

    Only forked workers can sign what their calls took (see probes.py): the workers of a pool
    that asks for spawn or forkserver itself are not timed, and nothing else stands in for
    them, since CPU time read for whole processes would count a thread burning CPU beside
    is_prime as work."""
    numbers = equal_cost_numbers(rng, count)
    started = time.perf_counter()
    seen = box.call("watched_check_processes", numbers=numbers, workers=workers, patience=0)
    elapsed = time.perf_counter() - started
    require_correct_mapping(f"check_processes(<{count} numbers>, {workers})", numbers, seen["result"])
    asked = set(numbers)
    return Speedup(sum(ns for n, ns in seen["cpu_ns_in_workers"] if n in asked) / 1e9, elapsed)


class Candidates:
    """The student's and the reference's sandboxes, measured in turns. The student's processes
    are stopped while the reference is measured, and the reference may use every core again
    before each of its rounds, so that nothing the submission runs can slow the reference."""

    def __init__(self, student: Sandbox, reference: Sandbox) -> None:
        self.student, self.reference = student, reference
        self.confined: list[int] = []  # reference threads found confined to fewer cores

    def run(self, name: str, rng: random.Random, count: int, workers: int) -> Speedup:
        if name == "student":
            return parallel_run(self.student, rng, count, workers)
        with frozen(self.student.pid):
            self.confined += restore_affinity(self.reference.pid)
            return parallel_run(self.reference, rng, count, workers)


def equal_work(candidates: Candidates, rng: random.Random, workers: int) -> dict[str, int]:
    """How many numbers each candidate checks per timed call. A student whose is_prime is
    faster than the reference's gets more, as many as it checks in the reference's time, so
    that starting the pool does not become most of what is measured. The two are measured
    interleaved on a small sample, so that a busy machine slows both alike, and the least
    disturbed measurement counts. A student never gets fewer numbers than the reference: noise
    can only give it more, which costs time but never lowers its speedup."""
    sample = 4 * workers
    least = {"student": math.inf, "reference": math.inf}
    for _ in range(3):
        for name in least:
            least[name] = min(least[name], candidates.run(name, rng, sample, workers).sequential)
    shares = math.ceil(REFERENCE_NUMBERS / workers)
    # No CPU time in workers at all: more numbers would only take longer to show it again.
    faster = max(1.0, least["reference"] / least["student"]) if least["student"] else 1.0
    return {"student": min(MAX_NUMBERS, workers * round(shares * faster)), "reference": workers * shares}


@pytest.mark.group("speedup")
@pytest.mark.timing
def test_check_processes_is_faster_than_sequential(sandbox, usable_cores, rng):
    if usable_cores < 2:
        pytest.skip(f"a speedup needs at least 2 usable cores; this machine gives the grader {usable_cores}")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the grader times worker processes started by fork, which this OS does not have")
    # Forked workers, whatever the default start method: only they hold the key that signs the
    # CPU time of their is_prime calls (see probes.py).
    student, reference = sandbox("student", start_method="fork"), sandbox("reference", start_method="fork")
    workers = usable_cores
    for box in (student, reference):  # the first pool and the first imports are not timed
        box.call("run_check", function="check_processes", numbers=equal_cost_numbers(rng, workers), workers=workers)
    candidates = Candidates(student, reference)
    counts = equal_work(candidates, rng, workers)
    speedups = best_speedups(
        {name: partial(candidates.run, name, rng, counts[name], workers) for name in ("student", "reference")},
        rounds=SPEEDUP_ROUNDS,
        # A round in which no is_prime call ran in a worker fixes the student's best sequential
        # time at 0, and so its speedup: no further round can change that verdict.
        settled=lambda best: best["student"].sequential == 0,
    )
    assert not candidates.confined, (
        "your code changed the CPU affinity of a process outside your own (the reference's, which"
        " the grader measures beside yours). A submission must not touch other processes."
    )
    assert speedups["student"].sequential, (
        f"no real speedup: in a call of check_processes(<{counts['student']} numbers>, {workers}) no"
        " is_prime call ran in a worker process, so nothing ran in parallel. Run is_prime on the"
        " numbers in a pool of worker processes, for example"
        " ProcessPoolExecutor(max_workers=workers).map(is_prime, numbers), and leave the start"
        " method to the default: the grader times the workers of this check when they are forked."
    )
    verdict = judge_speedup(speedups["student"], speedups["reference"], usable_cores)
    if not verdict.measurable:
        pytest.skip(verdict.explanation)
    assert verdict.passed, diagnose.no_real_speedup(verdict.explanation, workers)
