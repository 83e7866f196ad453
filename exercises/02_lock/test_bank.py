"""Quick checks for bank.py. Run: python -m pytest exercises/02_lock

The hidden grading suite checks the same things more thoroughly (random accounts and
amounts, more threads, more schedules).
"""

import threading
import time
from collections.abc import Callable, Iterator

import pytest

import bank
from student_runtime.deadlock import Cycle, LockWatch, deadlock_story, find_deadlock, watched_locks
from student_runtime.diagnoses import ex02_lock as diagnose
from student_runtime.preempt import forced_interleavings
from student_runtime.race_story import IN_FLIGHT

HANG_SECONDS = 5.0  # a correct bank finishes every check here in well under a second
LOCKS: list[LockWatch] = []  # the watch of the running test's locks


@pytest.fixture(autouse=True)
def watch_the_locks() -> Iterator[None]:
    """Every lock bank.py creates during a test is watched, so that a deadlock can be told."""
    with watched_locks(bank) as watch:
        LOCKS.append(watch)
        try:
            yield
        finally:
            LOCKS.remove(watch)


def run_at_once(jobs: list[Callable[[], None]]) -> None:
    """Run each job on its own thread (Thread-1, Thread-2, ...) at the same time; re-raise the
    first error a job raised.

    The threads are daemons, so that a deadlocked bank fails this check instead of hanging
    the test run. When they wait for each other's locks, or for a lock that a thread which has
    ended still holds, the check fails at once and says who holds which lock and waits for which.
    """
    errors: list[BaseException] = []
    go = threading.Event()  # no job starts before every thread has, so that no two share an ident

    def guarded(job: Callable[[], None]) -> None:
        go.wait()
        try:
            job()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            errors.append(error)

    def finished(seconds: float) -> bool:
        end = time.monotonic() + seconds
        for thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    threads = [threading.Thread(target=guarded, args=(job,), name=f"Thread-{number}", daemon=True)
               for number, job in enumerate(jobs, 1)]
    for thread in threads:
        thread.start()
    go.set()
    found = find_deadlock(LOCKS[-1].wait(finished, HANG_SECONDS, {thread.ident: thread.name for thread in threads}))
    if found is not None:
        advice = diagnose.deadlock_remedy(len(found.steps) if isinstance(found, Cycle) else None)
        pytest.fail(f"deadlock: {deadlock_story(found, 'account')} {advice}", pytrace=False)
    if errors:
        raise errors[0]
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, diagnose.threads_still_waiting(stuck, len(threads), HANG_SECONDS)


def balances(accounts: bank.Bank, names: list[str]) -> dict[str, int]:
    return {name: accounts.balance(name) for name in names}


def transfer_or_fail(accounts: bank.Bank, src: str, dst: str, amount: int) -> None:
    """accounts.transfer(), which can succeed: the error it raises anyway is the failure."""
    held = balances(accounts, [src, dst])
    try:
        accounts.transfer(src, dst, amount)
    except (KeyError, bank.InsufficientFunds) as error:
        raise AssertionError(diagnose.transfer_refused(f"transfer({src!r}, {dst!r}, {amount})",
                                                       f"raised {type(error).__name__}", src, held[src],
                                                       dst, held[dst])) from None


def test_transfer_moves_money():
    def transfers() -> None:
        names = ["alice", "bob", "carol"]
        accounts = bank.Bank({"alice": 100, "bob": 50, "carol": 0})
        for (src, dst, amount), expected in [
            (("alice", "bob", 30), {"alice": 70, "bob": 80, "carol": 0}),
            (("bob", "carol", 80), {"alice": 70, "bob": 0, "carol": 80}),  # all of it, to an empty account
        ]:
            transfer_or_fail(accounts, src, dst, amount)
            after = balances(accounts, names)
            assert after == expected, diagnose.wrong_balances_after(f"transfer({src!r}, {dst!r}, {amount})",
                                                                    after, expected)
        total = accounts.total()
        assert total == 150, diagnose.wrong_total({"alice": 100, "bob": 50, "carol": 0}, 2, f"returned {total!r}", 150)

    run_at_once([transfers])  # on a thread: a thread waiting for a lock it holds fails, not hangs


@pytest.mark.parametrize(("src", "dst", "amount", "error"), [
    ("alice", "bob", 101, bank.InsufficientFunds),
    ("alice", "bob", 0, ValueError),
    ("alice", "bob", -5, ValueError),
    ("alice", "alice", 10, ValueError),
    ("alice", "nobody", 10, KeyError),
    ("nobody", "alice", 10, KeyError),
])
def test_a_refused_transfer_changes_nothing(src, dst, amount, error):
    def refuse_then_transfer() -> None:
        opening = {"alice": 100, "bob": 50}
        accounts, call = bank.Bank(opening), f"transfer({src!r}, {dst!r}, {amount})"
        situation = f"with the balances {opening}"
        try:
            accounts.transfer(src, dst, amount)
        except error:
            pass
        except NotImplementedError:
            raise
        except Exception as other:
            raise AssertionError(diagnose.should_raise(situation, call, error.__name__,
                                                       f"raised {type(other).__name__}")) from None
        else:
            raise AssertionError(diagnose.should_raise(situation, call, error.__name__, "returned without an error"))
        after = balances(accounts, ["alice", "bob"])
        assert after == opening, diagnose.refused_but_changed(situation, call, error.__name__, after)
        try:  # the bank still works after an error
            accounts.transfer("alice", "bob", 1)
        except NotImplementedError:
            raise
        except Exception as other:
            raise AssertionError(diagnose.next_call_failed(call, error.__name__, "transfer('alice', 'bob', 1)",
                                                           f"raised {type(other).__name__}")) from None
        after = balances(accounts, ["alice", "bob"])
        assert after == {"alice": 99, "bob": 51}, diagnose.next_call_wrong_balances(
            call, error.__name__, "transfer('alice', 'bob', 1)", after, {"alice": 99, "bob": 51})

    run_at_once([refuse_then_transfer])  # on a thread: a lock the error left held fails, not hangs


def test_a_negative_opening_balance_is_refused():
    opening = {"alice": 10, "bob": -1}
    try:
        bank.Bank(opening)
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as other:
        raise AssertionError(diagnose.negative_opening_accepted(opening, f"raised {type(other).__name__}")) from None
    raise AssertionError(diagnose.negative_opening_accepted(opening, "returned a Bank"))


def test_money_is_conserved_under_forced_interleavings(schedules):
    # Real schedulers rarely switch threads mid-transfer; this test makes them switch often.
    names = ["alice", "bob", "carol"]
    for seed in schedules.seeds(3):
        accounts = bank.Bank({"alice": 300, "bob": 200, "carol": 0})

        def pay(src: str, dst: str) -> None:
            for _ in range(100):
                try:
                    accounts.transfer(src, dst, 3)
                except bank.InsufficientFunds:
                    pass  # expected once src runs dry; it must change nothing

        jobs = [lambda: pay("alice", "carol"), lambda: pay("bob", "carol"), lambda: pay("alice", "bob")]
        with forced_interleavings([bank], seed) as block:
            run_at_once(jobs)
        final = balances(accounts, names)
        if sum(final.values()) == 500 and min(final.values()) >= 0:
            continue
        accounts = bank.Bank({"alice": 300, "bob": 200, "carol": 0})  # again, one thread after another
        for job in jobs:
            run_at_once([job])
        alone = balances(accounts, names)
        overdrawn = sorted(name for name, balance in final.items() if balance < 0)
        what = (f"lost update: three threads of transfers left {final}, which adds up to {sum(final.values())}"
                " instead of 500." if sum(final.values()) != 500 else
                f"overdraft: three threads of transfers left {final}: {', '.join(overdrawn)} went below 0."
                " Check the balance and withdraw under the same lock, in one critical section.")
        raise AssertionError(schedules.failure(
            what, block, without_switches=sum(alone.values()) != 500 or min(alone.values()) < 0))


def test_opposite_transfers_do_not_deadlock(schedules):
    for seed in schedules.seeds(3):
        accounts = bank.Bank({"alice": 1000, "bob": 1000})

        def pay(src: str, dst: str) -> None:
            for _ in range(100):
                accounts.transfer(src, dst, 1)

        with forced_interleavings([bank], seed) as block:
            run_at_once([lambda: pay("alice", "bob"), lambda: pay("bob", "alice")])
        final = balances(accounts, ["alice", "bob"])
        assert final == {"alice": 1000, "bob": 1000}, schedules.failure(
            f"lost update: 100 transfers each way should leave both at 1000, not {final}.", block)


def test_total_never_sees_money_in_flight(schedules):
    for seed in schedules.seeds(3):
        accounts = bank.Bank({"alice": 1000, "bob": 1000, "carol": 1000})
        totals: list[int] = []
        transfers_done = threading.Event()

        def pay() -> None:
            try:
                for _ in range(100):
                    accounts.transfer("alice", "bob", 2)
                    accounts.transfer("bob", "carol", 1)
            finally:
                transfers_done.set()

        def audit() -> None:
            while not transfers_done.is_set():
                totals.append(accounts.total())

        with forced_interleavings([bank], seed) as block:
            run_at_once([pay, audit])
        wrong = [total for total in totals if total != 3000]
        assert not wrong, schedules.failure(
            f"money in flight: total() returned {sorted(set(wrong))} in {len(wrong)} of {len(totals)} calls"
            " while transfers ran, instead of 3000. total() must not add up the balances while a"
            " transfer is half done.", block, kinds=IN_FLIGHT)
