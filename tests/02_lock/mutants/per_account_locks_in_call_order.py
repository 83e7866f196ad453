"""Mutant: one lock per account, taken in the order src then dst, so opposite transfers deadlock.

Caught by: test_opposite_transfers_never_deadlock
"""

import threading


class InsufficientFunds(Exception):
    """transfer() was asked to move more money than the source account holds."""


class Bank:
    def __init__(self, balances: dict[str, int]) -> None:
        overdrawn = sorted(account for account, balance in balances.items() if balance < 0)
        if overdrawn:
            raise ValueError(f"negative opening balance in {', '.join(overdrawn)}")
        self._balances = dict(balances)
        self._locks = {account: threading.Lock() for account in balances}

    def balance(self, account: str) -> int:
        with self._locks[account]:
            return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"the amount must be positive, not {amount}")
        if src == dst:
            raise ValueError(f"cannot transfer from {src!r} to itself")
        for account in (src, dst):
            if account not in self._balances:
                raise KeyError(account)
        with self._locks[src], self._locks[dst]:
            if self._balances[src] < amount:
                raise InsufficientFunds(f"{src!r} holds {self._balances[src]}, cannot send {amount}")
            self._balances[src] -= amount
            self._balances[dst] += amount

    def total(self) -> int:
        locks = [self._locks[account] for account in sorted(self._locks)]
        for lock in locks:
            lock.acquire()
        try:
            return sum(self._balances.values())
        finally:
            for lock in locks:
                lock.release()
