"""Quick checks for primes.py. Run: python -m pytest exercises/06_primes

The hidden grading suite checks the same things more thoroughly (random and large numbers,
every start method) and also measures the speedup of check_processes on the grading machine.
"""

import collections
import math
import multiprocessing
import threading

import pytest

import primes
from student_runtime.diagnoses import ex06_primes as diagnose
from student_runtime.preempt import forced_interleavings

CARMICHAEL = (561, 1105, 1729)  # not prime, yet they pass Fermat's test


def divisor_free(n: int) -> bool:
    """The definition itself: slow, but obviously right for small numbers."""
    return n > 1 and all(n % d for d in range(2, n))


def factor_of(n: int) -> int | None:
    """The smallest factor of a number that has one; None for a prime and below 2."""
    return next((d for d in range(2, math.isqrt(n) + 1) if n % d == 0), None) if n > 1 else None


def is_prime_verdict(factors: dict[int, int | None]) -> tuple[list[int], str]:
    """The numbers is_prime gets wrong (given as n -> its smallest factor) and what to say about them."""
    problems, wrong = [], []
    for n, factor in factors.items():
        try:
            flag = primes.is_prime(n)
        except NotImplementedError:
            raise
        except Exception as error:
            outcome = f"raised {type(error).__name__}: {error}"
        else:
            if flag == (n > 1 and factor is None):
                continue
            outcome = f"returned {flag!r}"
        problems.append(diagnose.wrong_flag(n, outcome, factor))
        wrong.append(n)
    return wrong, diagnose.problems("is_prime is wrong", problems, diagnose.edge_advice(
        below_two=any(n < 2 for n in wrong), two_or_three=any(n in (2, 3) for n in wrong),
        no_divisor_below_root=any(n > 3 and factors[n] == math.isqrt(n) for n in wrong),
        carmichael=any(n in CARMICHAEL for n in wrong)))


def mapping_problems(call: str, numbers: list[int], result: dict) -> list[str]:
    """What is wrong with a check_* result compared with {n: is_prime(n) for n in numbers}."""
    if not isinstance(result, dict):
        return [diagnose.not_a_dict(call, type(result).__name__)]
    problems = [diagnose.missing_entry(call, n) for n in dict.fromkeys(numbers) if n not in result]
    for n, flag in result.items():
        if n not in numbers:
            problems.append(diagnose.unexpected_key(call, n))
        elif flag != divisor_free(n):
            problems.append(diagnose.wrong_entry(call, n, flag, factor_of(n)))
    return problems


def test_is_prime_on_small_numbers():
    wrong, message = is_prime_verdict({n: factor_of(n) for n in range(-10, 600)})
    assert not wrong, message


def test_is_prime_on_large_numbers():
    wrong, message = is_prime_verdict({1_000_000_007: None, 999_983 * 999_983: 999_983})
    assert not wrong, message


@pytest.mark.parametrize("check", ["check_sequential", "check_threads", "check_processes"])
def test_check_functions_map_every_number(check, rng):
    # Duplicates are allowed; numbers below 2 are never prime.
    numbers = rng.sample(range(-5, 5000), 40) + [-1, 0, 1, 2, 7, 7, 10, 25]
    result = primes.check_sequential(numbers) if check == "check_sequential" else getattr(primes, check)(numbers, 3)
    call = f"{check}(<{len(numbers)} numbers>{'' if check == 'check_sequential' else ', 3'})"
    problems = mapping_problems(call, numbers, result)
    assert not problems, diagnose.problems("wrong result", problems)


def test_check_threads_uses_a_pool_of_workers_threads(monkeypatch):
    workers = 3
    seen: set[threading.Thread] = set()
    all_arrived = threading.Barrier(workers, timeout=2)
    original = primes.is_prime

    def watched_is_prime(n: int) -> bool:
        if threading.current_thread() not in seen:
            seen.add(threading.current_thread())
            try:
                all_arrived.wait()  # a real pool has all its threads here at once
            except threading.BrokenBarrierError:
                pass
        return original(n)

    monkeypatch.setattr(primes, "is_prime", watched_is_prime)
    primes.check_threads(list(range(100, 160)), workers)
    threads, together = len(seen), not all_arrived.broken
    assert threads <= workers, diagnose.not_a_thread_pool(workers, threads)
    assert threads == workers and together, diagnose.threads_not_concurrent(workers)


def test_check_threads_checks_each_number_once_under_forced_interleavings(schedules, monkeypatch, rng):
    numbers = rng.sample(range(2, 1000), 100)
    original = primes.is_prime
    calls = collections.Counter()
    lock = threading.Lock()

    def counted_is_prime(n):
        with lock:
            calls[n] += 1
        return original(n)

    monkeypatch.setattr(primes, "is_prime", counted_is_prime)
    for seed in schedules.seeds(2):
        calls.clear()
        with forced_interleavings([primes], seed) as block:
            result = primes.check_threads(numbers, 3)
        twice = sorted(n for n, count in calls.items() if count > 1)
        assert not twice, schedules.failure(
            "race in check_threads: with forced thread switches, two threads took the same number"
            f" ({twice[:5]} were checked more than once).", block)
        if result != {n: divisor_free(n) for n in numbers}:
            alone = primes.check_threads(numbers, 3)  # again, with no switch forced
            raise AssertionError(schedules.failure(
                "race in check_threads: a number was skipped or wrong with forced thread switches.", block,
                without_switches=alone != {n: divisor_free(n) for n in numbers}))


def test_check_processes_works_under_spawn(rng):
    # Under spawn (the default on Windows and macOS) the workers import primes.py afresh.
    numbers = rng.sample(range(2, 5000), 30)
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    call = f"check_processes(<{len(numbers)} numbers>, 2) under the 'spawn' start method"
    try:
        result = primes.check_processes(numbers, 2)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(diagnose.processes_failed(call, f"{type(error).__name__}: {error}", "spawn")) from None
    finally:
        multiprocessing.set_start_method(previous, force=True)
    problems = mapping_problems(call, numbers, result)
    assert not problems, diagnose.problems("wrong result", problems, diagnose.start_method_advice("spawn", ""))
