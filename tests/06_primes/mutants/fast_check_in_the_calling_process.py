"""Mutant: check_processes skips the pool and answers in the calling process with a faster test (6k +- 1 trial division) that never calls is_prime.

Caught by: test_check_processes_works_in_other_processes
"""

import math
from concurrent.futures import ThreadPoolExecutor


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for divisor in range(2, math.isqrt(n) + 1):
        if n % divisor == 0:
            return False
    return True


def check_sequential(numbers: list[int]) -> dict[int, bool]:
    return {n: is_prime(n) for n in numbers}


def check_threads(numbers: list[int], workers: int) -> dict[int, bool]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(numbers, pool.map(is_prime, numbers)))


def _six_k_is_prime(n: int) -> bool:
    if n < 4:
        return n >= 2
    if n % 2 == 0 or n % 3 == 0:
        return False
    for divisor in range(5, math.isqrt(n) + 1, 6):
        if n % divisor == 0 or n % (divisor + 2) == 0:
            return False
    return True


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    # Three times fewer divisions than is_prime: faster than a pool of `workers` processes.
    return {n: _six_k_is_prime(n) for n in numbers}
