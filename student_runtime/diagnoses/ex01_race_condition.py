"""Diagnoses of exercises/01_race_condition: the mistakes a counter shared by threads invites.

An amount of None stands for increment() called without one; `calls` lists the calls made so
far, e.g. "Counter(), then increment(), increment(5)".
"""

from __future__ import annotations


def spelled(amount: int | None) -> str:
    """The call as the student wrote it: increment() or increment(amount)."""
    return "increment()" if amount is None else f"increment({amount})"


def what_increment_adds(amount: int | None) -> str:
    if amount is None:
        return "increment() without an amount adds 1."
    return "increment(amount) adds the amount, whatever int it is: 0 and negative ones too."


def new_counter_not_zero(value: object) -> str:
    return f"a new Counter() has the value {value!r}, expected 0"


def increment_wrong(amount: int | None, before: object, after: object, expected: int, calls: str) -> str:
    """One call took the value elsewhere than `amount` says, e.g. an amount ignored or refused."""
    return (f"{spelled(amount)} took the value from {before!r} to {after!r}, expected {expected}."
            f" {what_increment_adds(amount)} (The calls, in this order: {calls}.)")


def increment_raised(amount: int | None, error: str, calls: str) -> str:
    return f"{spelled(amount)} raised {error}. {what_increment_adds(amount)} (The calls, in this order: {calls}.)"


def wrong_total(n_threads: int, increments: int, total: object) -> str:
    """count_in_threads() returned another total, e.g. one thread short, with no race involved."""
    return (f"count_in_threads({n_threads}, {increments}) returned {total!r}, expected {n_threads} x"
            f" {increments} = {n_threads * increments}")


def too_few_threads(n_threads: int, increments: int, threads: int) -> str:
    """Fewer threads called increment() than asked: too few started, or a pool of fewer threads."""
    return (f"count_in_threads({n_threads}, {increments}) called increment() from {threads} different"
            f" thread{'s' if threads != 1 else ''}, expected {n_threads}: start n_threads threads (a thread"
            " pool with fewer threads makes the rest of the work wait its turn)")


def threads_one_after_another(n_threads: int, increments: int, peak: int) -> str:
    """The threads never all ran at once: each joined before the next started, most often."""
    return (f"not concurrent: at most {peak} of count_in_threads({n_threads}, {increments})'s {n_threads}"
            " threads were running at once. Start every thread first, then join them in a second loop.")
