"""Trusted probes for 02_lock, run in the sandbox beside the student's bank.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. A call's outcome is reported as "ok" or as the name
of the exception it raised ("InsufficientFunds" means an instance of the module's own class).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings

Transfer = list[Any]  # [src, dst, amount]


def one_thread(bank: ModuleType, opening: dict[str, int], actions: list[list[Any]]) -> dict[str, Any]:
    """Open a Bank, then run each action on this thread and read every balance after it.

    An action is ["transfer", src, dst, amount], ["balance", account] or ["total"].
    """
    insufficient_funds = getattr(bank, "InsufficientFunds", None)
    report: dict[str, Any] = {
        "insufficient_funds_is_exception": isinstance(insufficient_funds, type)
        and issubclass(insufficient_funds, Exception),
        "steps": [],
    }
    accounts: Any = None

    def open_bank() -> None:
        nonlocal accounts
        accounts = bank.Bank(dict(opening))

    report["opened"] = _outcome(bank, open_bank)
    if accounts is None:
        return report
    for name, *args in actions:
        returned: list[Any] = []
        outcome = _outcome(bank, lambda: returned.append(getattr(accounts, name)(*args)))
        report["steps"].append({
            "outcome": outcome,
            "value": _plain_int(returned[0]) if returned else None,
            "balances": _balances(accounts, opening),
        })
    return report


def transfers_under_preemption(
    bank: ModuleType,
    opening: dict[str, int],
    plans: list[list[Transfer]],
    seeds: list[int],
    audit: bool = False,
) -> list[dict[str, Any]]:
    """Per forced schedule: one thread per plan runs its transfers on one shared Bank.

    Returns each transfer's outcome (per plan, in order) and the balances at the end. With
    `audit`, one more thread calls total() again and again until every transfer is done, and
    the totals it saw are returned as [value, times seen] pairs.
    """
    runs = []
    for seed in seeds:
        outcomes: list[list[str]] = [[] for _ in plans]
        totals: Counter[Any] = Counter()
        with forced_interleavings([bank], seed):
            accounts = bank.Bank(dict(opening))

            def run_plan(plan: list[Transfer], record: list[str]) -> None:
                for src, dst, amount in plan:
                    record.append(_outcome(bank, partial(accounts.transfer, src, dst, amount)))

            def take_total() -> None:
                seen: list[Any] = []
                outcome = _outcome(bank, lambda: seen.append(accounts.total()))
                totals[_plain_int(seen[0]) if seen else f"raised {outcome}"] += 1

            _run_together([partial(run_plan, plan, record) for plan, record in zip(plans, outcomes)],
                          meanwhile=take_total if audit else None)
        runs.append({
            "outcomes": outcomes,
            "balances": _balances(accounts, opening),
            "totals": [[value, seen] for value, seen in totals.items()],
        })
    return runs


def competing_withdrawals(
    bank: ModuleType, source: str, sinks: list[str], funds: int, amount: int, seeds: list[int], rounds: int
) -> list[dict[str, Any]]:
    """Per round: a fresh Bank where `source` holds `funds`; one thread per sink tries, at
    the same moment, to move `amount` from `source` to its sink. Returns the outcomes and
    the source's balance after each round."""
    opening = {source: funds, **{sink: 0 for sink in sinks}}
    results = []
    for seed in seeds:
        with forced_interleavings([bank], seed):
            for _ in range(rounds):
                accounts = bank.Bank(dict(opening))
                outcomes = [""] * len(sinks)

                def withdraw(index: int) -> None:
                    outcomes[index] = _outcome(bank, partial(accounts.transfer, source, sinks[index], amount))

                _run_together([partial(withdraw, index) for index in range(len(sinks))])
                results.append({"outcomes": outcomes, "source_after": _plain_int(accounts.balance(source))})
    return results


# -- helpers --------------------------------------------------------------------------------


def _outcome(bank: ModuleType, call: Callable[[], Any]) -> str:
    """'ok', or the name of what the call raised. NotImplementedError goes on up, so that the
    stub is reported as 'not implemented yet' rather than as a wrong answer."""
    try:
        call()
    except NotImplementedError:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit from student code is an outcome too
        insufficient_funds = getattr(bank, "InsufficientFunds", None)
        if isinstance(insufficient_funds, type) and isinstance(error, insufficient_funds):
            return "InsufficientFunds"
        for expected in (ValueError, KeyError):
            if isinstance(error, expected):
                return expected.__name__
        return type(error).__name__
    return "ok"


def _run_together(jobs: list[Callable[[], None]], meanwhile: Callable[[], None] | None = None) -> None:
    """Run each job on its own thread, all released at once by a barrier, and join them.

    `meanwhile`, if given, is called again and again on one more thread (at least once)
    until every job has finished. The first error that escaped a thread (only
    NotImplementedError can) is raised again here.
    """
    start = threading.Barrier(len(jobs) + (meanwhile is not None))
    escaped: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:  # noqa: BLE001 - handed to the calling thread
            escaped.append(error)

    workers = [threading.Thread(target=run, args=(job,)) for job in jobs]
    threads = list(workers)
    if meanwhile is not None:

        def repeat_until_jobs_end() -> None:
            meanwhile()
            while any(worker.is_alive() for worker in workers):
                meanwhile()

        threads.append(threading.Thread(target=run, args=(repeat_until_jobs_end,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if escaped:
        raise escaped[0]


def _balances(accounts: Any, opening: dict[str, int]) -> list[list[Any]]:
    return [[account, _plain_int(accounts.balance(account))] for account in opening]


def _plain_int(value: Any) -> Any:
    """The value itself when it is an int or None; otherwise a description the suite can show."""
    if value is None or type(value) is int:
        return value
    return f"{type(value).__name__} {value!r:.60}"
