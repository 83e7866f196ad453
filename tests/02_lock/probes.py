"""Trusted probes for 02_lock, run in the sandbox beside the student's bank.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. A call's outcome is reported as "ok" or as the name
of the exception it raised ("InsufficientFunds" means an instance of the module's own class).

The student's code shares this interpreter and may replace what it reaches at import: the
builtins, `threading`, this module's globals. So every probe takes what it calls as keyword
defaults, bound when this module is imported (before the student's module is), and starts its
threads with `_thread`, so that no patch of threading.Thread can run them one after another.

While a probe runs, the locks the bank creates are watched (student_runtime/deadlock.py): when
its threads get stuck waiting for each other's locks, or for a lock that a thread which has ended
still holds, the probe stops waiting and returns the report of it instead of its result,
[{"deadlock": report}] (a dict for `one_thread`), and
the threads stay stuck until the sandbox is closed. Any other hang runs into the call's deadline.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from student_runtime.deadlock import LockWatch, watched_locks
from student_runtime.preempt import forced_interleavings
from student_runtime.race_story import IN_FLIGHT, LOST_UPDATE

Transfer = list[Any]  # [src, dst, amount]


# -- helpers --------------------------------------------------------------------------------


def _plain_int(value: Any, *, _type: type = type, _int: type = int) -> Any:
    """The value itself when it is an int or None; otherwise a description the suite can show."""
    if value is None or _type(value) is _int:
        return value
    return f"{_type(value).__name__} {value!r:.60}"


def _balances(accounts: Any, opening: dict[str, int], *,
              _plain_int: Callable[[Any], Any] = _plain_int) -> list[list[Any]]:
    return [[account, _plain_int(accounts.balance(account))] for account in opening]


def _outcome(bank: ModuleType, call: Callable[[], Any], *, _getattr: Callable[..., Any] = getattr,
             _isinstance: Callable[..., bool] = isinstance, _type: type = type,
             _expected: tuple[type, ...] = (ValueError, KeyError)) -> str:
    """'ok', or the name of what the call raised. NotImplementedError goes on up, so that the
    stub is reported as 'not implemented yet' rather than as a wrong answer."""
    try:
        call()
    except NotImplementedError:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit from student code is an outcome too
        insufficient_funds = _getattr(bank, "InsufficientFunds", None)
        if _isinstance(insufficient_funds, _type) and _isinstance(error, insufficient_funds):
            return "InsufficientFunds"
        for expected in _expected:
            if _isinstance(error, expected):
                return expected.__name__
        return _type(error).__name__
    return "ok"


def _job(job: Callable[[], None], start: Any, done: Any, escaped: list[BaseException]) -> None:
    """One thread of _run_together: wait for the others, run the job, hand on what escaped."""
    try:
        start.wait()
        job()
    except BaseException as error:  # noqa: BLE001 - handed to the calling thread
        escaped.append(error)
    finally:
        done.release()


def _repeat_until_done(meanwhile: Callable[[], None], running: list[Any], *, _any: Callable[..., bool] = any) -> None:
    """meanwhile() at least once, then again and again while any lock of `running` is held."""
    meanwhile()
    while _any(done.locked() for done in running):
        meanwhile()


def _all_done(running: list[Any], timeout: float, *, _monotonic: Callable[[], float] = time.monotonic,
              _max: Callable[..., float] = max) -> bool:
    """Whether every lock of `running` is free (its thread has ended), waiting at most `timeout` seconds."""
    end = _monotonic() + timeout
    for done in running:
        if not done.acquire(True, _max(0.0, end - _monotonic())):
            return False
        done.release()
    return True


def _held_lock(*, _lock: Callable[[], Any] = _thread.allocate_lock) -> Any:
    lock = _lock()
    lock.acquire()
    return lock


def _after_the_others(afterwards: Callable[[], None], others: list[Any]) -> None:
    """afterwards() once every lock of `others` is free (their threads have ended)."""
    for done in others:
        done.acquire()
        done.release()
    afterwards()


def _run_together(jobs: list[Callable[[], None]], meanwhile: Callable[[], None] | None = None,
                  watch: LockWatch | None = None, afterwards: Callable[[], None] | None = None, *,
                  _after_the_others: Callable[..., None] = _after_the_others,
                  _start: Callable[..., Any] = _thread.start_new_thread, _held_lock: Callable[[], Any] = _held_lock,
                  _barrier: type = threading.Barrier, _job: Callable[..., None] = _job,
                  _repeat_until_done: Callable[..., None] = _repeat_until_done,
                  _all_done: Callable[..., bool] = _all_done, _partial: type = partial, _zip: type = zip,
                  _len: Callable[[Any], int] = len, _enumerate: type = enumerate) -> dict[str, Any] | None:
    """Run each job on its own thread, all released at once by a barrier, and wait for them.

    `meanwhile`, if given, is called again and again on one more thread (at least once)
    until every job has finished. The first error that escaped a thread (only
    NotImplementedError can) is raised again here. The threads are started with _thread,
    bound here, so that no patch of threading.Thread can run them one after another.
    `afterwards`, if given, runs on one more thread once all the others have ended, so that a
    lock they left held keeps it waiting under the watch. It is started with the others: a
    thread that ended cannot lend its ident to it and be mistaken for it.
    With a `watch`, returns its report as soon as the threads (named Thread-1, Thread-2, ... in
    the order of `jobs`, then the `meanwhile` one, then the `afterwards` one) are stuck in a cycle
    of lock waits or waiting for a lock that an ended thread holds; else None.
    """
    start = _barrier(_len(jobs) + (meanwhile is not None) + (afterwards is not None))
    escaped: list[BaseException] = []
    running = [_held_lock() for _ in jobs]  # each released when its job has ended
    threads = [*_zip(jobs, running)]
    if meanwhile is not None:
        threads.append((_partial(_repeat_until_done, meanwhile, running), _held_lock()))
    if afterwards is not None:
        threads.append((_partial(_after_the_others, afterwards, [done for _, done in threads]), _held_lock()))
    idents = [_start(_job, (job, start, done, escaped)) for job, done in threads]
    if watch is not None:
        names = {ident: f"Thread-{number}" for number, ident in _enumerate(idents, 1)}
        stuck = watch.wait(_partial(_all_done, [done for _, done in threads]), None, names)
        if stuck is not None:
            return stuck
    for _, done in threads:
        done.acquire()  # the thread has ended; given back, so that _repeat_until_done sees it
        done.release()
    if escaped:
        raise escaped[0]
    return None


# -- probes ---------------------------------------------------------------------------------


def one_thread(bank: ModuleType, opening: dict[str, int], actions: list[list[Any]], *,
               _outcome: Callable[..., str] = _outcome, _balances: Callable[..., list[list[Any]]] = _balances,
               _plain_int: Callable[[Any], Any] = _plain_int, _getattr: Callable[..., Any] = getattr,
               _isinstance: Callable[..., bool] = isinstance, _issubclass: Callable[..., bool] = issubclass,
               _type: type = type, _exception: type = Exception, _dict: type = dict,
               _watched: Callable[..., Any] = watched_locks,
               _run_together: Callable[..., dict[str, Any] | None] = _run_together) -> dict[str, Any]:
    """Open a Bank, then run each action on one thread and read every balance after it.

    An action is ["transfer", src, dst, amount], ["balance", account] or ["total"]. The thread
    is one of its own, so that this one can tell a thread that waits for its own lock.
    """
    insufficient_funds = _getattr(bank, "InsufficientFunds", None)
    report: dict[str, Any] = {
        "insufficient_funds_is_exception": _isinstance(insufficient_funds, _type)
        and _issubclass(insufficient_funds, _exception),
        "steps": [],
    }
    accounts: Any = None

    def open_bank() -> None:
        nonlocal accounts
        accounts = bank.Bank(_dict(opening))

    def run() -> None:
        report["opened"] = _outcome(bank, open_bank)
        if accounts is None:
            return
        for name, *args in actions:
            returned: list[Any] = []
            outcome = _outcome(bank, lambda: returned.append(_getattr(accounts, name)(*args)))
            report["steps"].append({
                "outcome": outcome,
                "value": _plain_int(returned[0]) if returned else None,
                "balances": _balances(accounts, opening),
            })

    with _watched(bank) as watch:
        stuck = _run_together([run], watch=watch)
    return report if stuck is None else {"deadlock": stuck}


def transfers_under_preemption(
    bank: ModuleType,
    opening: dict[str, int],
    plans: list[list[Transfer]],
    seeds: list[int],
    audit: bool = False,
    *,
    _forced: type = forced_interleavings, _run_together: Callable[..., dict[str, Any] | None] = _run_together,
    _outcome: Callable[..., str] = _outcome, _balances: Callable[..., list[list[Any]]] = _balances,
    _plain_int: Callable[[Any], Any] = _plain_int, _partial: type = partial, _zip: type = zip, _dict: type = dict,
    _watched: Callable[..., Any] = watched_locks, _in_flight: tuple[str, ...] = IN_FLIGHT,
    _lost_update: tuple[str, ...] = LOST_UPDATE,
) -> list[dict[str, Any]]:
    """Per forced schedule: one thread per plan runs its transfers on one shared Bank.

    Returns each transfer's outcome (per plan, in order), the balances at the end and what the
    tracer saw of the pause that best explains a lost update or a change seen in flight (for the
    story; it decides nothing). With
    `audit`, one more thread calls total() again and again until every transfer is done, and
    the totals it saw are returned as [value, times seen] pairs.
    """
    runs = []
    for seed in seeds:
        outcomes: list[list[str]] = [[] for _ in plans]
        totals: dict[Any, int] = {}  # in the order first seen
        with _watched(bank) as watch, _forced([bank], seed) as block:
            accounts = bank.Bank(_dict(opening))

            def run_plan(plan: list[Transfer], record: list[str]) -> None:
                for src, dst, amount in plan:
                    record.append(_outcome(bank, _partial(accounts.transfer, src, dst, amount)))

            def take_total() -> None:
                seen: list[Any] = []
                outcome = _outcome(bank, lambda: seen.append(accounts.total()))
                value = _plain_int(seen[0]) if seen else f"raised {outcome}"
                totals[value] = totals.get(value, 0) + 1

            balances: list[list[list[Any]]] = []
            stuck = _run_together([_partial(run_plan, plan, record) for plan, record in _zip(plans, outcomes)],
                                  meanwhile=take_total if audit else None, watch=watch,
                                  afterwards=lambda: balances.append(_balances(accounts, opening)))
        if stuck is not None:
            return [{"deadlock": stuck}]
        runs.append({
            "outcomes": outcomes,
            "balances": balances[0],
            "totals": [[value, seen] for value, seen in totals.items()],
            "pause": block.telling_pause(_in_flight if audit else _lost_update),  # for the story; decides nothing
        })
    return runs


def competing_withdrawals(
    bank: ModuleType, source: str, sinks: list[str], funds: int, amount: int, seeds: list[int], rounds: int, *,
    _forced: type = forced_interleavings, _run_together: Callable[..., dict[str, Any] | None] = _run_together,
    _outcome: Callable[..., str] = _outcome, _plain_int: Callable[[Any], Any] = _plain_int,
    _partial: type = partial, _range: type = range, _len: Callable[[Any], int] = len, _dict: type = dict,
    _watched: Callable[..., Any] = watched_locks, _lost_update: tuple[str, ...] = LOST_UPDATE,
) -> list[dict[str, Any]]:
    """Per round: a fresh Bank where `source` holds `funds`; one thread per sink tries, at
    the same moment, to move `amount` from `source` to its sink. Returns the outcomes and
    the source's balance after each round, with what the tracer saw of the pause that best explains a
    lost update in its forced schedule (for the story; it decides nothing)."""
    opening = {source: funds, **{sink: 0 for sink in sinks}}
    results = []
    stuck = None
    for seed in seeds:
        rounds_of_seed = []
        with _forced([bank], seed) as block:
            for _ in _range(rounds):
                with _watched(bank) as watch:
                    accounts = bank.Bank(_dict(opening))
                    outcomes = [""] * _len(sinks)

                    def withdraw(index: int) -> None:
                        outcomes[index] = _outcome(bank, _partial(accounts.transfer, source, sinks[index], amount))

                    after: list[Any] = []
                    stuck = _run_together([_partial(withdraw, index) for index in _range(_len(sinks))], watch=watch,
                                          afterwards=lambda: after.append(_plain_int(accounts.balance(source))))
                if stuck is not None:
                    break
                rounds_of_seed.append({"outcomes": outcomes, "source_after": after[0]})
        if stuck is not None:  # one outcome, for one forced schedule at least
            return [{"deadlock": stuck}]
        pause = block.telling_pause(_lost_update)  # for the story of a failure; it decides nothing
        results.extend({**result, "pause": pause} for result in rounds_of_seed)
    return results
