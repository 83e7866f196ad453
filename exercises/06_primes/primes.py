"""Checking many numbers for primality: one by one, on a thread pool and on a process pool.

Write all four functions, then compare how long check_threads and check_processes take:
the work is pure Python arithmetic, which is exactly what the GIL keeps from running on
several threads at once.
"""

import math  # noqa: F401 - you will need it
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: F401 - or multiprocessing


def is_prime(n: int) -> bool:
    """True when n is a prime number; False for every n below 2."""
    # TODO: trial division by every candidate divisor up to the square root of n.
    raise NotImplementedError("is_prime() is not written yet")


def check_sequential(numbers: list[int]) -> dict[int, bool]:
    """{n: is_prime(n)} for every n in numbers, checked one after another."""
    # TODO: implement this.
    raise NotImplementedError("check_sequential() is not written yet")


def check_threads(numbers: list[int], workers: int) -> dict[int, bool]:
    """The same dict, computed by a pool of `workers` threads."""
    # TODO: implement this.
    raise NotImplementedError("check_threads() is not written yet")


def check_processes(numbers: list[int], workers: int) -> dict[int, bool]:
    """The same dict, computed by a pool of `workers` processes running at the same time.

    Must work under every multiprocessing start method (fork, spawn, forkserver)."""
    # TODO: implement this.
    raise NotImplementedError("check_processes() is not written yet")
