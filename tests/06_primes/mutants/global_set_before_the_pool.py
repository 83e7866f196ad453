"""Mutant: check_processes stores the numbers in a module global and sends the workers only
indices; workers started by spawn or forkserver import the module afresh and find the
global empty (works under fork only).

Caught by: test_check_processes_works_under_every_start_method
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


_numbers_to_check: list[int] = []


def _check_number_at(index: int) -> bool:
    return is_prime(_numbers_to_check[index])


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    global _numbers_to_check
    _numbers_to_check = list(numbers)  # saves pickling the numbers: the workers read the global
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(zip(numbers, pool.map(_check_number_at, range(len(numbers)))))
