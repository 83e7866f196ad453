"""Mutant: no ValueError for an amount <= 0 or a transfer from an account to itself.

Caught by: test_errors_change_nothing
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
        self._lock = threading.Lock()

    def balance(self, account: str) -> int:
        with self._lock:
            return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        with self._lock:
            for account in (src, dst):
                if account not in self._balances:
                    raise KeyError(account)
            if self._balances[src] < amount:
                raise InsufficientFunds(f"{src!r} holds {self._balances[src]}, cannot send {amount}")
            self._balances[src] -= amount
            self._balances[dst] += amount

    def total(self) -> int:
        with self._lock:
            return sum(self._balances.values())
