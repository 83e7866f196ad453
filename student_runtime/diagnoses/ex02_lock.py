"""Diagnoses of exercises/02_lock: the mistakes a bank guarded by locks invites.

`call` is how a message names a call, e.g. "transfer('alice', 'bob', 30)"; `did` what it did,
e.g. "raised KeyError" or "returned without an error"; `situation` what the bank held before,
e.g. "with the balances {'alice': 100, 'bob': 0}".
"""

from __future__ import annotations

from collections.abc import Mapping

STUCK_LOCK = ("A thread waits for a lock that nobody will release: a lock still held after an exception"
              " (take it with `with lock:`, which releases it on every way out), or a method that takes a"
              " lock it already holds (threading.Lock is not reentrant).")
ABANDONED_LOCK = ("A lock taken with a bare acquire() stays held when an exception skips its release(): take"
                  " it with `with lock:`, which releases it on every way out.")
LOCK_ORDER = ("Acquire the locks of a transfer in one global order (for example sorted by account name) or"
              " use one lock for the whole bank.")


def deadlock_remedy(threads_in_cycle: int | None) -> str:
    """The advice for threads stuck on locks: `threads_in_cycle` threads each wait for a lock the
    next one holds (1: a thread waits for a lock it holds itself), or None when a thread ended
    while it still held the lock the others wait for."""
    if threads_in_cycle is None:
        return ABANDONED_LOCK
    return STUCK_LOCK if threads_in_cycle == 1 else LOCK_ORDER


def threads_still_waiting(stuck: int, total: int, seconds: float) -> str:
    """Threads hung without a cycle of locks to show: say both usual causes."""
    return (f"deadlock: {stuck} of {total} threads were still waiting after {seconds:g} s. {STUCK_LOCK}"
            f" Or two transfers each held one lock and waited for the other's forever. {LOCK_ORDER}")


def should_raise(situation: str, call: str, error: str, did: str) -> str:
    """A wrong call (a bad amount, an unknown account, too little money) was not refused as it must be."""
    return f"{situation}, {call} should raise {error}, but it {did}"


def refused_but_changed(situation: str, call: str, error: str, balances: Mapping[str, int]) -> str:
    """The refusal came after money had moved: the checks must all come first."""
    return (f"{situation}, {call} raised {error} as it should, but changed the balances to {dict(balances)}."
            " Check everything first; move money only once the transfer cannot fail.")


def unknown_account_opened(calls: str, account: str, did: str) -> str:
    """An unknown account answered balance() after wrong calls, e.g. from a defaultdict."""
    return (f"after {calls}, balance({account!r}) should still raise KeyError, but it {did}: an unknown"
            " account has no balance, and a failed call must not open it")


def next_call_failed(refused: str, error: str, call: str, did: str) -> str:
    """The bank stopped working after a refused transfer."""
    return f"after {refused} raised {error}, the next call {call} {did}"


def next_call_wrong_balances(refused: str, error: str, call: str, balances: Mapping[str, int],
                             expected: Mapping[str, int]) -> str:
    return (f"after {refused} raised {error}, the next call {call} left the balances at {dict(balances)},"
            f" expected {dict(expected)}")


def negative_opening_accepted(opening: Mapping[str, int], did: str) -> str:
    return f"Bank({dict(opening)}) should raise ValueError, but it {did}"


def transfer_refused(call: str, did: str, src: str, src_held: int, dst: str, dst_held: int) -> str:
    """A transfer that can succeed raised: an empty destination taken as unknown, or the whole
    balance taken as too little."""
    why = {"raised KeyError": ": both accounts exist, and an account holding 0 is an account too",
           "raised InsufficientFunds": ": moving all the money an account holds is allowed"}.get(did, "")
    return f"{call} {did} although {src!r} held {src_held} and {dst!r} held {dst_held}{why}"


def wrong_balances_after(call: str, balances: Mapping[str, int], expected: Mapping[str, int]) -> str:
    return f"after {call} the balances were {dict(balances)}, expected {dict(expected)}"


def wrong_total(opening: Mapping[str, int], transfers: int, did: str, expected: int) -> str:
    """total() after `transfers` transfers, which only move money, did not give the opening sum."""
    if not opening:
        return f"Bank({{}}).total() {did}, expected 0: the sum of no balances"
    return f"after Bank({dict(opening)}) and {transfers} transfers, total() {did}, expected {expected}"


def wrong_balance(call: str, did: str, expected: int) -> str:
    return f"{call} {did}, expected {expected}"
