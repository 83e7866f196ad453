"""Hostile student: every value it hands back is an object equal to anything (`__eq__` always
True), hoping the grader compares it with the expected total in-process.

Must earn 0: only plain data crosses from the sandbox, and no count is ever right.
"""


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


class Counter:
    def increment(self, amount: int = 1) -> None:
        pass

    @property
    def value(self) -> AlwaysEqual:
        return AlwaysEqual()


def count_in_threads(n_threads: int, increments_per_thread: int) -> AlwaysEqual:
    return AlwaysEqual()
