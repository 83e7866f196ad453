"""Mutant: the balances live in a defaultdict(int), so an unknown account reads as 0 instead of
raising KeyError, and a transfer to it opens it.

Caught by: test_errors_change_nothing
"""

import threading
from collections import defaultdict


class InsufficientFunds(Exception):
    """transfer() was asked to move more money than the source account holds."""


class Bank:
    def __init__(self, balances: dict[str, int]) -> None:
        if any(balance < 0 for balance in balances.values()):
            raise ValueError("an opening balance cannot be negative")
        self._balances: defaultdict[str, int] = defaultdict(int, balances)
        self._lock = threading.Lock()

    def balance(self, account: str) -> int:
        with self._lock:
            return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        if amount <= 0 or src == dst:
            raise ValueError("the amount must be positive and the accounts different")
        with self._lock:
            if self._balances[src] < amount:
                raise InsufficientFunds(src)
            self._balances[src] -= amount
            self._balances[dst] += amount

    def total(self) -> int:
        with self._lock:
            return sum(self._balances.values())
