"""Mutant: `if not amount` refuses only 0, so a negative amount passes the funds check and moves money
the wrong way.

Caught by: test_errors_change_nothing
"""

import threading


class InsufficientFunds(Exception):
    """transfer() was asked to move more money than the source account holds."""


class Bank:
    def __init__(self, balances: dict[str, int]) -> None:
        """Open the accounts with their balances; ValueError for a negative opening balance."""
        overdrawn = sorted(account for account, balance in balances.items() if balance < 0)
        if overdrawn:
            raise ValueError(f"negative opening balance in {', '.join(overdrawn)}")
        self._balances = dict(balances)
        self._lock = threading.Lock()

    def balance(self, account: str) -> int:
        """The balance of account; KeyError for an unknown account."""
        with self._lock:
            return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        """Move amount from src to dst atomically. Raise InsufficientFunds, changing nothing, when src has
        less than amount; ValueError when amount <= 0 or src == dst; KeyError for an unknown account."""
        if not amount:
            raise ValueError(f"the amount must be positive, not {amount}")
        if src == dst:
            raise ValueError(f"cannot transfer from {src!r} to itself")
        with self._lock:
            for account in (src, dst):
                if account not in self._balances:
                    raise KeyError(account)
            # The check and both updates form one step: nobody can spend the money in between.
            if self._balances[src] < amount:
                raise InsufficientFunds(f"{src!r} holds {self._balances[src]}, cannot send {amount}")
            self._balances[src] -= amount
            self._balances[dst] += amount

    def total(self) -> int:
        """The sum of all balances as one consistent snapshot, even while transfers run on other threads."""
        with self._lock:
            return sum(self._balances.values())
