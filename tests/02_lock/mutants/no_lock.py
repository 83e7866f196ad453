"""Mutant: no lock at all, so another transfer can run between the check and the two updates.

Caught by: test_money_is_conserved_under_forced_interleavings
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

    def balance(self, account: str) -> int:
        return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"the amount must be positive, not {amount}")
        if src == dst:
            raise ValueError(f"cannot transfer from {src!r} to itself")
        for account in (src, dst):
            if account not in self._balances:
                raise KeyError(account)
        if self._balances[src] < amount:
            raise InsufficientFunds(f"{src!r} holds {self._balances[src]}, cannot send {amount}")
        self._balances[src] -= amount
        self._balances[dst] += amount

    def total(self) -> int:
        return sum(self._balances.values())
