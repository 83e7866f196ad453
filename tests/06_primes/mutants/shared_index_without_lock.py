"""Mutant: check_threads is a hand-made pool whose threads count the numbers taken in a shared
variable without a lock, so two threads can take the same number: it is checked twice, and
another one may be skipped.

Caught by: test_check_threads_checks_each_number_once_under_forced_interleavings
"""

import math
import threading
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
    results: dict[int, bool] = {}
    taken = 0  # how many numbers the threads have taken so far

    def work() -> None:
        nonlocal taken
        while taken < len(numbers):
            taken += 1
            n = numbers[taken - 1]
            results[n] = is_prime(n)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    # is_prime is a module-level function, so the pool can pickle it by name and every
    # worker finds it, also when the workers import this module afresh (spawn, forkserver).
    # A few numbers per message keeps the pickling overhead small and the load balanced.
    chunksize = max(1, len(numbers) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(zip(numbers, pool.map(is_prime, numbers, chunksize=chunksize)))
