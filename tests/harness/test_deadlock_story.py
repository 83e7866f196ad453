"""The deadlock story (student_runtime/deadlock.py): a cycle of lock waits, or a lock left held by
a thread that has ended, told in the student's words, from tiny banks written here; other hangs
and correct designs get no story."""

from __future__ import annotations

import _thread
import importlib.util
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from student_runtime.deadlock import (
    Abandoned,
    Cycle,
    LockName,
    Step,
    deadlock_story,
    find_cycle,
    find_deadlock,
    watched_locks,
)


def module_from(tmp_path: Path, source: str, name: str = "bank") -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"story_{name}_{id(tmp_path)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start(jobs: list[Callable[[], Any]]) -> tuple[list[threading.Thread], Callable[[float], bool]]:
    """The jobs on daemon threads Thread-1, Thread-2, ..., and a finished(timeout) for LockWatch.wait.
    No job starts before every thread has: a thread that ended cannot lend its ident to the next."""
    go = threading.Event()

    def quietly(job: Callable[[], Any]) -> None:
        go.wait()
        try:
            job()
        except RuntimeError:
            pass  # a lock the test released in its place, to end the thread

    threads = [threading.Thread(target=quietly, args=(job,), name=f"Thread-{number}", daemon=True)
               for number, job in enumerate(jobs, 1)]
    for thread in threads:
        thread.start()
    go.set()

    def finished(seconds: float) -> bool:
        end = time.monotonic() + seconds
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    return threads, finished


OPPOSITE_TRANSFERS = """\
    import threading


    class Bank:
        def __init__(self, accounts):
            self._locks = {account: threading.Lock() for account in accounts}

        def transfer(self, src, dst, meet):
            with self._locks[src]:
                meet.wait()  # both threads hold their source's lock before either goes on
                with self._locks[dst]:
                    pass
"""


def test_opposite_transfers_name_both_threads_locks_and_lines(tmp_path):
    bank = module_from(tmp_path, OPPOSITE_TRANSFERS)
    with watched_locks(bank) as watch:
        accounts = bank.Bank(["a", "b"])
    meet = threading.Barrier(2)
    threads, finished = start([lambda: accounts.transfer("a", "b", meet), lambda: accounts.transfer("b", "a", meet)])
    report = watch.wait(finished, 10.0)
    assert bank.threading is threading

    cycle = find_cycle(report)
    assert cycle is not None, report
    assert deadlock_story(cycle, "account") == (
        'Thread-1 holds the lock of account "a" (bank.py:9) and waits for the lock of "b" (bank.py:11),'
        ' while Thread-2 holds "b" and waits for "a": each waits for the other forever.'
    )
    assert deadlock_story(cycle) == (
        'Thread-1 holds the lock of "a" (bank.py:9) and waits for the lock of "b" (bank.py:11),'
        ' while Thread-2 holds "b" and waits for "a": each waits for the other forever.'
    )
    for lock in accounts._locks.values():
        lock.release()  # in the stuck threads' place, so that they end
    assert finished(10.0)


def test_a_thread_waiting_for_its_own_lock_imported_by_name(tmp_path):
    bank = module_from(tmp_path, """\
        from threading import Lock


        class Bank:
            def __init__(self):
                self._lock = Lock()

            def total(self):
                with self._lock:
                    return self.balance()

            def balance(self):
                with self._lock:
                    return 0
    """)
    with watched_locks(bank) as watch:
        accounts = bank.Bank()
    assert bank.Lock is threading.Lock
    threads, finished = start([accounts.total])
    cycle = find_cycle(watch.wait(finished, 10.0))
    assert cycle is not None
    assert deadlock_story(cycle, "account") == (
        "Thread-1 waits for self._lock at bank.py:13, but holds that lock itself (taken at bank.py:9):"
        " a thread that waits for a lock it holds waits forever."
    )
    accounts._lock.release()
    assert finished(10.0)


def test_a_lock_left_held_by_a_thread_that_ended(tmp_path):
    bank = module_from(tmp_path, """\
        import threading


        class Bank:
            def __init__(self, balances):
                self._balances = balances
                self._locks = {account: threading.Lock() for account in balances}

            def withdraw(self, account, amount):
                self._locks[account].acquire()
                if self._balances[account] < amount:
                    raise ValueError(account)  # the lock stays held
                self._balances[account] -= amount
                self._locks[account].release()
    """)
    with watched_locks(bank) as watch:
        accounts = bank.Bank({"a": 5, "b": 5})
    refused = threading.Event()

    def after_the_refusal() -> None:
        refused.wait()
        accounts.withdraw("a", 1)

    def refuse() -> None:
        try:
            accounts.withdraw("a", 10)
        except ValueError:
            refused.set()

    threads, finished = start([refuse, after_the_refusal, lambda: accounts.withdraw("b", 1)])
    found = find_deadlock(watch.wait(finished, 10.0, {thread.ident: thread.name for thread in threads}))
    assert isinstance(found, tuple), found
    assert deadlock_story(found, "account") == (
        'Thread-1 ended while it still held the lock of account "a", taken at bank.py:10: nothing will ever'
        " release it, and Thread-2 waits for it at bank.py:10 forever."
    )
    accounts._locks["a"].release()
    assert finished(10.0)


def test_a_hang_that_is_no_lock_cycle_has_no_story(tmp_path):
    bank = module_from(tmp_path, """\
        import threading


        class Bank:
            def __init__(self, never):
                self._lock = threading.Lock()
                self._never = never

            def transfer(self):
                with self._lock:
                    self._never.wait()  # an Event nobody sets: stuck, holding the lock
    """)
    never = threading.Event()
    with watched_locks(bank) as watch:
        accounts = bank.Bank(never)
    threads, finished = start([accounts.transfer, accounts.transfer])
    assert watch.wait(finished, 0.5) is None  # one thread waits on the Event, the other for the lock
    never.set()
    assert finished(10.0)


def test_correct_designs_run_unchanged_under_the_watch(tmp_path):
    bank = module_from(tmp_path, """\
        import threading
        from _thread import allocate_lock


        class Bank:
            def __init__(self):
                self._lock = threading.RLock()
                self._changed = threading.Condition(self._lock)
                self._plain = allocate_lock()
                self._balance = 0

            def deposit(self, amount):
                with self._lock, self._lock:  # reentrant
                    self._balance += amount
                    self._changed.notify_all()

            def wait_for(self, amount):
                with self._lock:
                    while self._balance < amount:
                        self._changed.wait()  # gives the RLock up however deep, and takes it back
                    with self._plain:
                        return self._balance
    """)
    with watched_locks(bank) as watch:
        accounts = bank.Bank()
    seen: list[int] = []
    threads, finished = start([lambda: seen.append(accounts.wait_for(50))] +
                              [lambda: [accounts.deposit(1) for _ in range(25)]] * 2)
    assert watch.wait(finished, 10.0) is None
    assert seen == [50]
    assert bank.allocate_lock is _thread.allocate_lock and bank.threading is threading


def step(thread: str, holds: str, waits_for: str, at: str = "bank.py:30") -> Step:
    return Step(thread, LockName(f"self._locks['{holds}']", f'"{holds}"', "bank.py:12"), at,
                LockName(f"self._locks['{waits_for}']", f'"{waits_for}"', "bank.py:12"), at)


def test_a_ring_of_three_with_one_more_thread_behind_it():
    cycle = Cycle((step("Thread-1", "c", "a"), step("Thread-2", "a", "b", "bank.py:31"), step("Thread-3", "b", "c")),
                  (("Thread-4", LockName("self._locks['a']", '"a"', "bank.py:12")),))
    assert deadlock_story(cycle, "account") == (
        'Thread-1 holds the lock of account "c" (bank.py:30) and waits for the lock of "a" (bank.py:30);'
        ' Thread-2 holds "a" (bank.py:31) and waits for the lock of "b" (bank.py:31);'
        ' Thread-3 holds "b" and waits for "c": each waits for the next, around a cycle that never ends.'
        ' Thread-4 waits for "a" too.'
    )


def snapshot(waits: list[list[Any]], holds: list[list[Any]]) -> dict[str, Any]:
    return {"waits": waits, "holds": holds}


def report(earlier_token: int = 5, **changes: Any) -> dict[str, Any]:
    stuck = snapshot([["Thread-1", 2, earlier_token, "bank.py:11"], ["Thread-2", 1, 6, "bank.py:11"]],
                     [[1, "Thread-1", 3, "bank.py:9"], [2, "Thread-2", 4, "bank.py:9"]])
    later = snapshot([["Thread-1", 2, 5, "bank.py:11"], ["Thread-2", 1, 6, "bank.py:11"]],
                     [[1, "Thread-1", 3, "bank.py:9"], [2, "Thread-2", 4, "bank.py:9"]])
    return {"earlier": stuck, "later": later, "locks": [[1, "self._lock_a", None, "bank.py:5"],
                                                        [2, None, None, "bank.py:6"]], **changes}


def test_a_report_is_judged_as_data():
    cycle = find_cycle(report())
    assert cycle is not None
    assert deadlock_story(cycle) == (
        "Thread-1 holds self._lock_a (bank.py:9) and waits for the lock created at bank.py:6 (bank.py:11),"
        " while Thread-2 holds the lock created at bank.py:6 and waits for self._lock_a: each waits for"
        " the other forever."
    )
    # A wait that changed between the two looks (another acquire() call) proves nothing.
    assert find_cycle(report(earlier_token=4)) is None
    for broken in [None, [], {"earlier": {}}, report(locks=[[1, 2, None, "x"]]), report(locks=[]),
                   report(later=snapshot([["Thread-1", "2", 5, "bank.py:11"]], []))]:
        assert find_cycle(broken) is None
    shouted = report(locks=[[1, "self.\x1b[2J" + "x" * 500, None, "bank.py:5"], [2, None, None, "bank.py:6"]])
    told = deadlock_story(find_cycle(shouted))
    assert "\x1b" not in told and "x" * 121 not in told and "self.\\x1b[2J" in told


def abandoned(earlier_token: int = 5, ended: tuple[list[str], list[str]] = (["Thread-3"], ["Thread-3"]),
              **changes: Any) -> dict[str, Any]:
    """Thread-3 ended holding lock 1 (and lock 2 taken again, token 7 -> 8); Thread-1 and Thread-2
    wait for lock 1, Thread-4 for lock 2."""
    def look(hold_token: int, wait_token: int, gone: list[str]) -> dict[str, Any]:
        return {"waits": [["Thread-2", 1, 6, "bank.py:22"], ["Thread-1", 1, wait_token, "bank.py:21"],
                          ["Thread-4", 2, 9, "bank.py:21"]],
                "holds": [[1, "Thread-3", 3, "bank.py:21"], [2, "Thread-3", hold_token, "bank.py:21"]],
                "ended": gone}

    return {"earlier": look(7, earlier_token, ended[0]), "later": look(8, 5, ended[1]),
            "locks": [[1, "self._locks['a']", '"a"', "bank.py:8"], [2, "self._other", None, "bank.py:9"]],
            **changes}


def test_a_report_of_a_lock_left_held_is_judged_as_data():
    a = LockName("self._locks['a']", '"a"', "bank.py:8")
    assert find_deadlock(abandoned()) == (
        Abandoned("Thread-3", a, "bank.py:21", (("Thread-1", "bank.py:21"), ("Thread-2", "bank.py:22"))),)
    assert deadlock_story(find_deadlock(abandoned()), "account") == (
        'Thread-3 ended while it still held the lock of account "a", taken at bank.py:21: nothing will ever'
        " release it, and Thread-1 and Thread-2 wait for it at bank.py:21, bank.py:22 forever."
    )
    # A holder that had not ended at the first look may have released the lock since.
    assert find_deadlock(abandoned(ended=([], ["Thread-3"]))) is None
    # A wait that changed between the two looks is still the only proof needed for Thread-2.
    assert [lock.waiters for lock in find_deadlock(abandoned(earlier_token=4))] == [(("Thread-2", "bank.py:22"),)]
    for broken in [abandoned(ended=("Thread-3", [])), abandoned(ended=([3], [])), abandoned(locks=[]),
                   {"earlier": {"waits": [], "holds": []}, "later": {"waits": [], "holds": []}, "locks": []}]:
        assert find_deadlock(broken) is None
    # A cycle is told first; a report of a cycle without the holders that ended still reads.
    assert isinstance(find_deadlock(report()), Cycle)


def test_several_locks_left_held():
    a, b = (LockName(None, None, f"bank.py:{line}") for line in (8, 9))
    story = deadlock_story((Abandoned("Thread-2", a, "bank.py:21", (("Thread-1", "bank.py:30"),)),
                            Abandoned("Thread-3", b, "bank.py:21", (("Thread-4", "bank.py:30"),))))
    assert story == (
        "Thread-2 ended while it still held the lock created at bank.py:8, taken at bank.py:21: nothing will"
        " ever release it, and Thread-1 waits for it at bank.py:30 forever. 1 more lock was left held the same"
        " way."
    )
