"""Mutant: one lock per account, taken in sorted order by transfer(), but total() holds only one
account's lock at a time while adding up, so a transfer can move money from an account it has
not counted yet to one it has already counted.

Caught by: test_total_never_sees_money_in_flight
"""

import threading


class InsufficientFunds(Exception):
    """transfer() was asked to move more money than the source account holds."""


class Bank:
    def __init__(self, balances: dict[str, int]) -> None:
        for account, balance in balances.items():
            if balance < 0:
                raise ValueError(f"{account} cannot open with {balance}")
        self._balances = dict(balances)
        self._locks = {account: threading.Lock() for account in balances}

    def balance(self, account: str) -> int:
        with self._locks[account]:
            return self._balances[account]

    def transfer(self, src: str, dst: str, amount: int) -> None:
        if amount <= 0:
            raise ValueError(f"cannot transfer {amount}")
        if src == dst:
            raise ValueError("cannot transfer to the same account")
        first, second = sorted((self._locks[src], self._locks[dst]), key=lambda lock: id(lock))
        with first, second:
            if self._balances[src] < amount:
                raise InsufficientFunds(f"{src} holds {self._balances[src]}")
            self._balances[src] -= amount
            self._balances[dst] += amount

    def total(self) -> int:
        total = 0
        for account in sorted(self._balances):
            with self._locks[account]:
                total += self._balances[account]
        return total
