"""Mutant: check_threads waits for each number's result before submitting the next, so only one
thread ever works.

Caught by: test_check_threads_uses_a_pool_of_workers_threads
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
        return {n: pool.submit(is_prime, n).result() for n in numbers}


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    # is_prime is a module-level function, so the pool can pickle it by name and every
    # worker finds it, also when the workers import this module afresh (spawn, forkserver).
    # A few numbers per message keeps the pickling overhead small and the load balanced.
    chunksize = max(1, len(numbers) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(zip(numbers, pool.map(is_prime, numbers, chunksize=chunksize)))
