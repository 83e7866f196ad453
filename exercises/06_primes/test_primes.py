"""Quick checks for primes.py. Run: python -m pytest exercises/06_primes

The hidden grading suite checks the same things more thoroughly (random and large numbers,
every start method) and also measures the speedup of check_processes on the grading machine.
"""

import collections
import multiprocessing
import threading

import pytest

import primes
from student_runtime.preempt import forced_interleavings


def divisor_free(n: int) -> bool:
    """The definition itself: slow, but obviously right for small numbers."""
    return n > 1 and all(n % d for d in range(2, n))


def test_is_prime_on_small_numbers():
    wrong = [n for n in range(-10, 600) if primes.is_prime(n) != divisor_free(n)]
    assert not wrong, f"is_prime is wrong for {wrong[:10]}"


def test_is_prime_on_large_numbers():
    assert primes.is_prime(1_000_000_007), "1_000_000_007 is prime"
    assert not primes.is_prime(999_983 * 999_983), "999_983 * 999_983 is not prime"


@pytest.mark.parametrize("check", ["check_sequential", "check_threads", "check_processes"])
def test_check_functions_map_every_number(check, rng):
    # Duplicates are allowed; numbers below 2 are never prime.
    numbers = rng.sample(range(-5, 5000), 40) + [-1, 0, 1, 2, 7, 7, 10, 25]
    expected = {n: divisor_free(n) for n in numbers}
    result = primes.check_sequential(numbers) if check == "check_sequential" else getattr(primes, check)(numbers, 3)
    assert result == expected, f"{check} returned a wrong dict"


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
    assert len(seen) == workers, f"is_prime ran on {len(seen)} threads, expected a pool of {workers}"
    assert not all_arrived.broken, f"the {workers} threads did not all run at the same time"


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
        assert result == {n: divisor_free(n) for n in numbers}, schedules.failure(
            "race in check_threads: a number was skipped or wrong with forced thread switches.", block)


def test_check_processes_works_under_spawn(rng):
    # Under spawn (the default on Windows and macOS) the workers import primes.py afresh.
    numbers = rng.sample(range(2, 5000), 30)
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("spawn", force=True)
    try:
        result = primes.check_processes(numbers, 2)
    finally:
        multiprocessing.set_start_method(previous, force=True)
    assert result == {n: divisor_free(n) for n in numbers}, "check_processes returned a wrong dict under spawn"
