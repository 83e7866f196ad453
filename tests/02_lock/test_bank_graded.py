"""Hidden suite for 02_lock: a Bank whose money never appears, vanishes or gets stuck.

Every input is fresh each run: account names, balances, amounts and the transfers each
thread makes. All of them come from the `rng` fixture, whose seed also drives the forced
schedules, so a failure replayed with `--seed` gets the same accounts, the same transfers and
the same forced thread switches. The inputs a classic mistake trips on (an account holding 0,
amounts of 1, 0 and below, the whole balance, one more than the balance, unknown accounts, an
account sending to itself, an empty bank) are in every run, so randomness never decides
whether a mistake is seen.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from grader.harness.sandbox import Sandbox, StudentCodeHung
from student_runtime.deadlock import Cycle, deadlock_story, find_deadlock
from student_runtime.diagnoses import ex02_lock as diagnose
from student_runtime.race_story import first_story

SCHEDULES = 5  # forced schedules per race check; one bad schedule fails the check
DEADLOCK_SCHEDULES = 3  # a lock-order deadlock shows up within some 50 transfers of one schedule
# Seconds after which a short call counts as a deadlock. A correct Bank answers the one-thread
# probes in milliseconds and one schedule of the deadlock check in under 0.4 s, even with
# the machine's two cores oversubscribed six times; a deadlocked Bank never answers.
HANG_TIMEOUT = 5
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"]

Action = list[Any]  # ["transfer", src, dst, amount], ["balance", account] or ["total"]
Transfer = list[Any]  # [src, dst, amount]


# -- helpers --------------------------------------------------------------------------------


def account_names(rng: random.Random, count: int) -> list[str]:
    return [f"{name}-{rng.randrange(100, 1000)}" for name in rng.sample(NAMES, count)]


def downhill_transfers(rng: random.Random, accounts: list[str], count: int,
                       max_amount: int) -> list[Transfer]:
    """Random transfers, each from an account to one later in `accounts`.

    Money flowing one way means that no order of taking per-account locks can deadlock here:
    these checks are about lost updates and overdrafts, and lock order has its own group.
    """
    transfers = []
    for _ in range(count):
        src, dst = sorted(rng.sample(range(len(accounts)), 2))
        transfers.append([accounts[src], accounts[dst], rng.randint(1, max_amount)])
    return transfers


def affordable_transfers(rng: random.Random, opening: dict[str, int], count: int) -> list[Action]:
    """Random transfers (at least 3) that all succeed when made one after another.

    The first goes into an account that holds 0, when there is one; every third moves all the
    money its source holds, and the one after it moves 1.
    """
    balances, transfers = dict(opening), []
    for step in range(max(count, 3)):
        src = rng.choice([account for account, balance in balances.items() if balance > 0])
        empty = [account for account, balance in balances.items() if balance == 0 and account != src]
        dst = rng.choice(empty if step == 0 and empty else [account for account in balances if account != src])
        amount = {0: balances[src], 1: 1}.get(step % 3) or rng.randint(1, balances[src])
        transfers.append(["transfer", src, dst, amount])
        balances = after_transfers(balances, [[src, dst, amount]])
    return transfers


def spelled(action: Action) -> str:
    name, *args = action
    return f"{name}({', '.join(map(repr, args))})"


def after_transfers(opening: dict[str, int], transfers: list[Transfer]) -> dict[str, int]:
    balances = dict(opening)
    for src, dst, amount in transfers:
        balances[src] -= amount
        balances[dst] += amount
    return balances


LOCK_ORDER_ADVICE = diagnose.LOCK_ORDER  # quoted by the lock-order check's advice


def what_it_did(action: Action, step: dict[str, Any]) -> str:
    if step["outcome"] != "ok":
        return f"raised {step['outcome']}"
    return "returned without an error" if action[0] == "transfer" else f"returned {step['value']!r}"


def call_or_report_deadlock(student: Sandbox, probe: str, *, doing: str, advice: str = diagnose.STUCK_LOCK,
                            replay: str | None = None, timeout: float | None = None, **kwargs: Any) -> Any:
    """The probe's result; AssertionError when its threads got stuck. When the probe reports
    them stuck in a cycle of lock waits, or waiting for a lock whose holder has ended, the
    message tells who holds what and the advice for it; otherwise, after the deadline, `advice`
    and where each thread was stuck."""
    replayed = f" ({replay})" if replay else ""
    try:
        value = student.call(probe, timeout=timeout, **kwargs)
    except StudentCodeHung as hang:
        raise AssertionError(f"deadlock: {doing} never finished. {advice}{replayed}\n{hang}") from None
    stuck = value[0] if isinstance(value, list) and len(value) == 1 else value
    if not (isinstance(stuck, dict) and "deadlock" in stuck):
        return value
    found = find_deadlock(stuck["deadlock"])
    if found is None:  # its threads are stuck, but the report does not show how
        raise AssertionError(f"deadlock: {doing} never finished. {advice}{replayed}")
    remedy = diagnose.deadlock_remedy(len(found.steps) if isinstance(found, Cycle) else None)
    raise AssertionError(f"deadlock: {doing} never finished. {deadlock_story(found, 'account')} {remedy}{replayed}")


def story(exercise: Any, runs: list[dict[str, Any]]) -> str:
    """The interleaving that made the first of these forced schedules go wrong, in the student's
    own lines, from what the sandbox's child reported, and a space; empty when it cannot be told."""
    told = first_story(f"{exercise.module}.py", [run.get("pause") for run in runs if isinstance(run, dict)])
    return f"{told} " if told else ""


def money_problem(opening: dict[str, int], plans: list[list[Transfer]], run: dict[str, Any],
                  refusals_possible: bool = True) -> str | None:
    """What is wrong with one run of transfers_under_preemption, in the student's words."""
    allowed = {"ok", "InsufficientFunds"} if refusals_possible else {"ok"}
    for plan, outcomes in zip(plans, run["outcomes"]):
        for transfer, outcome in zip(plan, outcomes):
            if outcome not in allowed:
                return f"transfer{tuple(transfer)} raised {outcome}" + (
                    " although every account held enough" if outcome == "InsufficientFunds" else "")
    balances = dict(run["balances"])
    not_ints = {account: value for account, value in balances.items() if type(value) is not int}
    if not_ints:
        return f"balance() returned {not_ints}, expected ints"
    succeeded = [transfer for plan, outcomes in zip(plans, run["outcomes"])
                 for transfer, outcome in zip(plan, outcomes) if outcome == "ok"]
    expected = after_transfers(opening, succeeded)
    if balances == expected:
        return None
    total, opened_with = sum(balances.values()), sum(opening.values())
    overdrawn = {account: value for account, value in balances.items() if value < 0}
    if total != opened_with:
        return (f"lost update: the accounts opened with {opened_with} in all and ended with {total},"
                f" although transfers only move money (balances at the end: {balances})")
    if overdrawn:
        return f"overdrawn: {overdrawn} ended below zero (balances {balances})"
    return f"the balances ended as {balances}, but the transfers that succeeded give {expected}"


# -- errors ---------------------------------------------------------------------------------
# Each case makes wrong calls that must all raise one error. The bank has an account holding 0
# and funded ones; the stranger is an account it does not know.


def empty_and_funded(opening: dict[str, int]) -> tuple[str, list[str]]:
    [empty] = [account for account, balance in opening.items() if balance == 0]
    return empty, [account for account in opening if account != empty]


def insufficient_funds(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    empty, funded = empty_and_funded(opening)
    src, dst = rng.sample(funded, 2)
    return [["transfer", src, dst, opening[src] + 1], ["transfer", empty, src, 1],
            ["transfer", dst, empty, opening[dst] + rng.randint(2, 50)]], "InsufficientFunds"


def zero_amount(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    empty, funded = empty_and_funded(opening)
    return [["transfer", *rng.sample(funded, 2), 0], ["transfer", rng.choice(funded), empty, 0]], "ValueError"


def negative_amount(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    empty, funded = empty_and_funded(opening)
    return [["transfer", *rng.sample(funded, 2), -1],
            ["transfer", empty, rng.choice(funded), -rng.randint(2, 50)]], "ValueError"


def same_account(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    _, funded = empty_and_funded(opening)
    whole, one = rng.sample(funded, 2)
    return [["transfer", whole, whole, opening[whole]], ["transfer", one, one, 1]], "ValueError"


def unknown_source(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    empty, funded = empty_and_funded(opening)
    return [["transfer", stranger, rng.choice(funded), rng.randint(1, 50)],
            ["transfer", stranger, empty, 1]], "KeyError"


def unknown_destination(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    _, funded = empty_and_funded(opening)
    whole, one = rng.sample(funded, 2)
    return [["transfer", whole, stranger, opening[whole]], ["transfer", one, stranger, 1]], "KeyError"


def unknown_balance(rng: random.Random, opening: dict[str, int], stranger: str) -> tuple[list[Action], str]:
    return [["balance", stranger]], "KeyError"


@pytest.mark.group("errors")
@pytest.mark.parametrize("make_case", [
    insufficient_funds, zero_amount, negative_amount, same_account,
    unknown_source, unknown_destination, unknown_balance,
], ids=lambda make_case: make_case.__name__)
def test_errors_change_nothing(student, rng, make_case):
    *accounts, stranger = account_names(rng, 5)
    empty, *funded = accounts
    opening = {empty: 0, **{account: rng.randint(10, 200) for account in funded}}
    wrong_calls, error = make_case(rng, opening, stranger)
    # Afterwards the stranger must still be unknown, and the bank must still work (with an
    # amount below the whole balance, which the insufficient_funds case has at its edges).
    src, dst = rng.sample(funded, 2)
    follow_up = ["transfer", src, dst, rng.randint(1, opening[src] - 1)]
    actions = [*wrong_calls, ["balance", stranger], follow_up]
    report = call_or_report_deadlock(student, "one_thread", doing=", then ".join(map(spelled, actions)),
                                     timeout=HANG_TIMEOUT, opening=opening, actions=actions)
    assert report["opened"] == "ok", f"Bank({opening}) raised {report['opened']}"
    *refused, balance_of_stranger, followed = report["steps"]
    situation = f"with the balances {opening}"

    for wrong_call, raised in zip(wrong_calls, refused):
        assert raised["outcome"] == error, diagnose.should_raise(situation, spelled(wrong_call), error,
                                                                 what_it_did(wrong_call, raised))
        if error == "InsufficientFunds":
            assert report["insufficient_funds_is_exception"], "InsufficientFunds must be a subclass of Exception"
        balances = dict(raised["balances"])
        assert balances == opening, diagnose.refused_but_changed(situation, spelled(wrong_call), error, balances)
    assert balance_of_stranger["outcome"] == "KeyError", diagnose.unknown_account_opened(
        ", ".join(map(spelled, wrong_calls)), stranger, what_it_did(actions[-2], balance_of_stranger))
    assert followed["outcome"] == "ok", diagnose.next_call_failed(
        spelled(wrong_calls[-1]), error, spelled(follow_up), what_it_did(follow_up, followed))
    expected = after_transfers(opening, [follow_up[1:]])
    assert dict(followed["balances"]) == expected, diagnose.next_call_wrong_balances(
        spelled(wrong_calls[-1]), error, spelled(follow_up), dict(followed["balances"]), expected)


@pytest.mark.group("errors")
def test_a_negative_opening_balance_is_refused(student, rng):
    for negative in (-1, -rng.randint(2, 100)):
        accounts = account_names(rng, 3)
        opening = {account: rng.randint(0, 100) for account in accounts}
        opening[rng.choice(accounts)] = negative
        report = call_or_report_deadlock(student, "one_thread", doing=f"Bank({opening})", timeout=HANG_TIMEOUT,
                                         opening=opening, actions=[])
        outcome = "returned a Bank" if report["opened"] == "ok" else f"raised {report['opened']}"
        assert report["opened"] == "ValueError", diagnose.negative_opening_accepted(opening, outcome)


# -- conservation ---------------------------------------------------------------------------


@pytest.mark.group("conservation")
def test_transfers_move_the_money(student, rng):
    accounts = account_names(rng, 4)
    opening = {account: rng.randint(1, 200) for account in accounts}
    opening[accounts[0]] = 0  # an empty account is a valid account
    transfers = affordable_transfers(rng, opening, rng.randint(6, 10))
    reads = [["balance", account] for account in accounts]
    report = call_or_report_deadlock(student, "one_thread", doing="one transfer after another on one thread",
                                     timeout=HANG_TIMEOUT, opening=opening, actions=transfers + reads)
    assert report["opened"] == "ok", f"Bank({opening}) raised {report['opened']}"

    balances = dict(opening)
    for transfer, step in zip(transfers, report["steps"]):
        held = balances[transfer[1]]
        balances = after_transfers(balances, [transfer[1:]])
        assert step["outcome"] == "ok", diagnose.transfer_refused(
            spelled(transfer), what_it_did(transfer, step), transfer[1], held,
            transfer[2], balances[transfer[2]] - transfer[3])
        assert dict(step["balances"]) == balances, diagnose.wrong_balances_after(
            spelled(transfer), dict(step["balances"]), balances)
    for read, step in zip(reads, report["steps"][len(transfers):]):
        assert step["outcome"] == "ok" and step["value"] == balances[read[1]], diagnose.wrong_balance(
            spelled(read), what_it_did(read, step), balances[read[1]])


@pytest.mark.group("conservation")
def test_money_is_conserved_under_forced_interleavings(student, schedules, exercise, rng):
    accounts = sorted(account_names(rng, 4))
    # The money drains downhill, so later transfers get refused now and then (a fifth, typically).
    opening = {account: rng.randint(100, 400) * (len(accounts) - rank)
               for rank, account in enumerate(accounts)}
    plans = [downhill_transfers(rng, accounts, rng.randint(40, 60), max_amount=30) for _ in range(4)]
    runs = call_or_report_deadlock(student, "transfers_under_preemption", doing="4 threads making transfers",
                                   opening=opening, plans=plans, seeds=schedules.seeds(SCHEDULES))
    wrong = [(problem, run) for run in runs if (problem := money_problem(opening, plans, run))]
    assert not wrong, (
        f"{wrong[0][0]}; wrong in {len(wrong)} of {SCHEDULES} forced schedules of 4 threads making"
        f" random transfers between {accounts}. Another thread ran in the middle of a transfer:"
        " the balance check and both updates must happen while one lock is held, the same lock"
        " for every transfer that touches those accounts."
        f" {story(exercise, [run for _, run in wrong])}({schedules.replay_hint()})"
    )


ROUNDS = 20  # rounds of competing withdrawals per forced schedule


@pytest.mark.group("conservation")
def test_an_account_is_never_overdrawn(student, schedules, exercise, rng):
    source, *sinks = account_names(rng, 5)
    amount = rng.randint(10, 100)
    can_succeed = rng.randint(1, len(sinks) - 1)
    funds = amount * can_succeed  # the transfers that succeed empty the account exactly
    results = call_or_report_deadlock(
        student, "competing_withdrawals", doing=f"{len(sinks)} threads transferring out of one account",
        source=source, sinks=sinks, funds=funds, amount=amount, seeds=schedules.seeds(SCHEDULES),
        rounds=ROUNDS)
    situation = (f"{source!r} held {funds} and {len(sinks)} threads each tried to transfer {amount} out of it"
                 f" at the same moment, so exactly {can_succeed} transfer{'s' if can_succeed > 1 else ''} can succeed")
    for result in results:
        unexpected = sorted({outcome for outcome in result["outcomes"]} - {"ok", "InsufficientFunds"})
        assert not unexpected, f"{situation}; one transfer raised {unexpected[0]}"
        succeeded = result["outcomes"].count("ok")
        assert succeeded <= can_succeed, (
            f"overdrawn: {situation}, but {succeeded} succeeded and left {result['source_after']}"
            f" in {source!r}. Check-then-act race: a transfer checked the balance, then another thread"
            " spent the money before the first one took it. Do the check and the withdrawal under the"
            f" same lock, as one step. {story(exercise, [result])}({schedules.replay_hint()})"
        )
        assert succeeded == can_succeed, (
            f"{situation}, but only {succeeded} succeeded: raise InsufficientFunds only when the money"
            f" is really missing. ({schedules.replay_hint()})"
        )
        left = funds - can_succeed * amount
        assert result["source_after"] == left, (
            f"lost update: {situation}; they did, but left {result['source_after']} in {source!r}"
            f" instead of {left}. {story(exercise, [result])}({schedules.replay_hint()})"
        )


# -- deadlock -------------------------------------------------------------------------------


@pytest.mark.group("deadlock")
@pytest.mark.parametrize("ring_size", [2, 3], ids=["A-to-B-and-B-to-A", "A-to-B-to-C-to-A"])
def test_opposite_transfers_never_deadlock(student, schedules, rng, ring_size):
    ring = account_names(rng, ring_size)
    amounts = [rng.randint(1, 9) for _ in ring]
    repeats = rng.randint(80, 120)
    # Every account always holds more than it sends: the only way to fail is to get stuck.
    opening = {account: amount * repeats + rng.randint(1, 50) for account, amount in zip(ring, amounts)}
    plans = [[[src, ring[(index + 1) % ring_size], amount]] * repeats
             for index, (src, amount) in enumerate(zip(ring, amounts))]
    doing = (f"{ring_size} threads each making {repeats} transfers around"
             f" {' -> '.join(ring + ring[:1])} at the same time")
    advice = (
        "Typically each transfer held the lock of its source account and waited for the lock of its"
        " destination, which another transfer held while it waited in turn: a cycle of waits that"
        f" never ends. {LOCK_ORDER_ADVICE}"
    )
    # One call per schedule: each is short, so its timeout is a wide margin even on a busy machine.
    for seed in schedules.seeds(DEADLOCK_SCHEDULES):
        [run] = call_or_report_deadlock(student, "transfers_under_preemption", doing=doing, advice=advice,
                                        replay=schedules.replay_hint(), timeout=HANG_TIMEOUT,
                                        opening=opening, plans=plans, seeds=[seed])
        problem = money_problem(opening, plans, run, refusals_possible=False)
        assert problem is None, f"{doing}: {problem} ({schedules.replay_hint()})"


# -- snapshot -------------------------------------------------------------------------------


@pytest.mark.group("snapshot")
def test_total_adds_up_the_balances(student, rng):
    accounts = account_names(rng, rng.randint(2, 5))
    opening = {account: rng.randint(1, 200) for account in accounts}
    opening[accounts[0]] = 0  # an empty account is a valid account
    actions: list[Action] = [["total"]]
    for transfer in affordable_transfers(rng, opening, rng.randint(3, 6)):
        actions += [transfer, ["total"]]
    report = call_or_report_deadlock(student, "one_thread", doing="transfers and total() on one thread",
                                     timeout=HANG_TIMEOUT, opening=opening, actions=actions)
    assert report["opened"] == "ok", f"Bank({opening}) raised {report['opened']}"
    for done, (action, step) in enumerate(zip(actions, report["steps"])):
        if action[0] == "total":
            assert step["outcome"] == "ok" and step["value"] == sum(opening.values()), diagnose.wrong_total(
                opening, done // 2, what_it_did(action, step), sum(opening.values()))
    report = call_or_report_deadlock(student, "one_thread", doing="Bank({}), then total()",
                                     timeout=HANG_TIMEOUT, opening={}, actions=[["total"]])
    assert report["opened"] == "ok", f"Bank({{}}) raised {report['opened']}: a bank without accounts is a bank"
    [step] = report["steps"]
    assert step["outcome"] == "ok" and step["value"] == 0, diagnose.wrong_total({}, 0, what_it_did(["total"], step), 0)


@pytest.mark.group("snapshot")
def test_total_never_sees_money_in_flight(student, schedules, exercise, rng):
    accounts = sorted(account_names(rng, 4))
    plans = [downhill_transfers(rng, accounts, rng.randint(40, 60), max_amount=20) for _ in range(3)]
    # Each account holds more than it will ever send, so no transfer is refused: what total()
    # sees does not depend on how a Bank handles errors, only on its locking.
    opening = {account: rng.randint(1, 300) for account in accounts}
    for src, _, amount in (transfer for plan in plans for transfer in plan):
        opening[src] += amount
    runs = call_or_report_deadlock(student, "transfers_under_preemption",
                                   doing="3 threads making transfers while another one called total()",
                                   opening=opening, plans=plans, seeds=schedules.seeds(SCHEDULES), audit=True)
    true_total = sum(opening.values())
    for run in runs:
        calls = sum(seen for _, seen in run["totals"])
        wrong = {value: seen for value, seen in run["totals"] if value != true_total}
        if not wrong:
            continue
        commonest = sorted(wrong, key=wrong.__getitem__, reverse=True)
        returned = (f"total() returned {', '.join(map(str, commonest[:3]))}"
                    f"{' and others' if len(wrong) > 3 else ''} in {sum(wrong.values())} of {calls} calls"
                    f" while 3 threads made transfers; it must always be {true_total}, since transfers"
                    " only move money")
        if sum(wrong.values()) == calls:
            raise AssertionError(f"{returned}. It is wrong even when no transfer is under way.")
        raise AssertionError(
            f"money in flight: {returned}. total() added up the balances while a transfer had taken"
            " the money out of one account and not yet put it into the other: take the lock (every"
            f" lock the transfers use) while adding up. {story(exercise, [run])}({schedules.replay_hint()})"
        )
