"""A bank whose accounts many threads transfer money between at once.

Every transfer takes money out of one account and puts it into another. Run from several
threads without care, two transfers can both spend the same money, an update can be lost,
or total() can catch a transfer halfway and count money that is nowhere. Make every
transfer one indivisible step, without ever letting two transfers wait for each other.
"""

import threading  # noqa: F401 - you will need it


class InsufficientFunds(Exception):
    """transfer() was asked to move more money than the source account holds."""


class Bank:
    def __init__(self, balances: dict[str, int]) -> None:
        """Open the accounts with their balances; ValueError for a negative opening balance."""
        # TODO: keep your own copy of the balances, and create what keeps transfers safe
        # when many threads call them at once.
        raise NotImplementedError("Bank() is not written yet")

    def balance(self, account: str) -> int:
        """The balance of account; KeyError for an unknown account."""
        raise NotImplementedError("balance() is not written yet")

    def transfer(self, src: str, dst: str, amount: int) -> None:
        """Move amount from src to dst atomically. Raise InsufficientFunds, changing nothing, when src has
        less than amount; ValueError when amount <= 0 or src == dst; KeyError for an unknown account."""
        # TODO: implement this.
        raise NotImplementedError("transfer() is not written yet")

    def total(self) -> int:
        """The sum of all balances as one consistent snapshot, even while transfers run on other threads."""
        # TODO: implement this.
        raise NotImplementedError("total() is not written yet")
