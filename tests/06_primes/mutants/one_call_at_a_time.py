"""Mutant: check_processes waits for each number's result before submitting the next, so the
pool's workers take turns instead of running at once.

The timing check fails it too whenever the machine is quiet enough to measure a speedup;
the test it is caught by fails it however busy the machine is.

Fails the timing check: test_check_processes_is_faster_than_sequential
Caught by: test_check_processes_keeps_its_workers_busy_at_once
"""

import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    # A composite n has a divisor no larger than its square root; isqrt(n) itself counts (25 = 5 * 5).
    for divisor in range(2, math.isqrt(n) + 1):
        if n % divisor == 0:
            return False
    return True


def check_sequential(numbers: list[int]) -> dict[int, bool]:
    return {n: is_prime(n) for n in numbers}


def check_threads(numbers: list[int], workers: int) -> dict[int, bool]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(numbers, pool.map(is_prime, numbers)))


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return {n: pool.submit(is_prime, n).result() for n in numbers}
