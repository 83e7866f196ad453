"""Diagnoses of exercises/06_primes: the mistakes prime checks on threads and processes invite.

A number's facts are the number and its smallest factor (None for a prime, and for a number
below 2); `call` names the call that went wrong, e.g. "check_threads(<48 numbers>, 3)".
"""

from __future__ import annotations

from collections.abc import Sequence

PICKLING = ("The pool could not pickle the function it was given: hand it a function defined at the top"
            " level of primes.py, such as is_prime, not a lambda or a function defined inside"
            " check_processes.")


def why(n: int, factor: int | None) -> str:
    """Why n is prime or not, so the student can check the answer by hand."""
    if n < 2:
        return f"{n} is not prime: no number below 2 is"
    if factor is None:
        return f"{n} is prime"
    return f"{n} = {factor} * {n // factor} is not prime"


def wrong_flag(n: int, outcome: str, factor: int | None) -> str:
    """`outcome` is what is_prime(n) did, e.g. "returned True" or "raised ValueError: math domain error"."""
    return f"is_prime({n}) {outcome}: {why(n, factor)}"


def wrong_entry(call: str, n: int, flag: bool, factor: int | None) -> str:
    return f"{call}[{n}] is {flag}: {why(n, factor)}"


def not_a_dict(call: str, type_name: str) -> str:
    return f"{call} returned a {type_name}, expected a dict {{number: bool}}"


def missing_entry(call: str, n: int) -> str:
    return f"{call} has no entry for {n}"


def unexpected_key(call: str, key: object) -> str:
    return f"{call} has a key {key} that is not one of the numbers it was given"


def edge_advice(below_two: bool, two_or_three: bool, no_divisor_below_root: bool, carmichael: bool) -> str:
    """What a student most likely got wrong, from the kinds of numbers that came out wrong."""
    advice = []
    if below_two:
        advice.append("Numbers below 2 (1, 0 and all negative numbers) are not prime.")
    if two_or_three:
        advice.append("2 and 3 are prime although the range of divisors to try is empty for them.")
    if no_divisor_below_root:
        advice.append("A number like 25 = 5 * 5 has no divisor below its square root: the divisors tried must"
                      " include isqrt(n) itself, as in range(2, math.isqrt(n) + 1).")
    if carmichael:
        advice.append("Carmichael numbers such as 561 = 3 * 11 * 17 pass Fermat's test but are not prime: use"
                      " trial division.")
    return " ".join(advice)


def problems(headline: str, found: Sequence[str], advice: str = "", shown: int = 5) -> str:
    """A headline, the first `shown` problems one a line, and the advice that fits them."""
    more = f"\n  ... and {len(found) - shown} more" if len(found) > shown else ""
    return f"{headline}:\n  " + "\n  ".join(found[:shown]) + more + (f"\n{advice}" if advice else "")


def too_slow(seconds: float, count: int) -> str:
    return (f"too slow: is_prime needed more than {seconds:g} s for {count} numbers up to 10**12. Trial"
            " division only has to try divisors up to the square root of n.")


def not_a_thread_pool(workers: int, threads: int, peak: int | None = None) -> str:
    """More threads called is_prime than the pool has: a thread per number, most often. `peak`
    is how many called it at once, when that was measured."""
    at_once = "" if peak is None else f", up to {peak} at once"
    return (f"not a pool of {workers} threads: {threads} different threads called is_prime{at_once}. Create"
            f" {workers} threads once and let each check many numbers, for example with"
            " ThreadPoolExecutor(max_workers=workers).")


def threads_not_concurrent(workers: int, peak: int | None = None) -> str:
    """The pool's threads took turns: each result awaited before the next number went in."""
    some = f"the {workers} pool threads were never all" if peak is None else f"at most {peak} of the {workers} pool threads were"
    return (f"not concurrent: {some} checking a number at the same time."
            " Hand all the numbers to the pool before waiting for any result (pool.map, or submit"
            " everything first and collect the results afterwards).")


def start_method_advice(start_method: str, what_happened: str) -> str:
    """Advice for check_processes going wrong under `start_method`, from the error it gave (if any)."""
    if any(sign in what_happened for sign in ("pickle", "local object", "<lambda>")):
        return PICKLING
    if start_method == "fork":
        return ""
    return (f"Under '{start_method}' every worker process imports primes.py afresh and sees none of what the"
            " parent did after importing it: module globals set in check_processes before creating the pool"
            " are not there. Pass everything a worker needs as arguments.")


def processes_failed(call: str, what_happened: str, start_method: str) -> str:
    """check_processes raised under `start_method`; `what_happened` is the error."""
    return f"{call} failed: {what_happened}\n{start_method_advice(start_method, what_happened)}"


def not_in_worker_processes(unchecked: int, total: int, examples: Sequence[int], calls_here: int) -> str:
    return (f"no worker processes checked {unchecked} of the {total} numbers (e.g."
            f" {', '.join(map(str, examples[:3]))}): check_processes must run is_prime on them in a pool of"
            " worker processes, for example ProcessPoolExecutor(max_workers=workers).map(is_prime, numbers)."
            f" {calls_here} is_prime calls ran in the process that called check_processes; threads share its"
            " GIL and cannot check numbers in parallel.")


def workers_not_busy_at_once(workers: int, peak: int, seen: int, start_method: str) -> str:
    return (f"not {workers} workers at once: at most {peak} worker processes were checking numbers at the"
            f" same time, {seen} in all (start method '{start_method}'). Create one pool of exactly `workers`"
            " processes and hand it all the numbers at once, with pool.map(is_prime, numbers); waiting for"
            " each result before submitting the next number, or a new pool per number, makes the workers"
            " take turns.")


def no_real_speedup(explanation: str, workers: int) -> str:
    """`explanation` compares the measured speedup with what the machine allows."""
    return (f"no real speedup: {explanation}. check_processes must keep all {workers} worker processes busy"
            " at once. Threads share one GIL and give no speedup on CPU work; a process pool used one call"
            " at a time (apply(), or submit(...).result() inside the loop) or with a single worker runs the"
            " numbers one after another; and a new pool for every number spends its time starting"
            " processes.")
