"""Hidden suite for 08_futures: run_all, first_success and map_processes on executors.

Each test describes its calls as a plan (see probes.Calls): when each call ends and whether it
returns a value, raises, or returns an exception object. Times are chosen with wide gaps, so
that the order in which the calls end is the same on a busy machine, and every duration that
decides a verdict is measured here, outside the student's process.

Every random choice comes from the `rng` fixture, so `--seed N` replays the same calls. What a
classic mistake trips on is in every run: calls that return 0 or None (values a student might
take for "no result"), the same call twice, no calls or items at all, and a winner that
returns a false value.

PYTEST_DONT_REWRITE: a failed assert shows its message alone, without pytest's explanation.
"""

from __future__ import annotations

import multiprocessing
import random
from typing import Any, NoReturn

import pytest

from grader.harness.sandbox import Sandbox, StudentCodeHung
from student_runtime.diagnoses import ex08_futures as diagnose
from student_runtime.race_story import first_story

ERROR_TYPES = ["ValueError", "RuntimeError", "LookupError", "ArithmeticError", "PermissionError"]
SLOW = 4.0  # seconds a slow call takes, unless the probe lets it go once the verdict is in
QUICK_ANSWER = 1.5  # first_success must answer within this, when the winner needs 0.2 s
SCHEDULES = 8  # forced schedules for the race check


# -- plans and how to talk about them -------------------------------------------------------------


RANDOM_VALUE = object()  # returns_value(): draw the value


def returns_value(rng: random.Random, after: float, value: int | None | object = RANDOM_VALUE) -> dict[str, Any]:
    if value is RANDOM_VALUE:
        value = rng.randint(10**5, 10**9)
    return {"after": after, "kind": "value", "value": value}


def fails(rng: random.Random, after: float, error: str | None = None, kind: str = "raise") -> dict[str, Any]:
    """A call that raises (kind "raise") or returns (kind "return_error") an exception object."""
    return {"after": after, "kind": kind, "error": error or rng.choice(ERROR_TYPES),
            "message": f"call failed ({rng.getrandbits(32):08x})"}


def expected(step: dict[str, Any]) -> dict[str, Any]:
    if step["kind"] == "value":
        return {"kind": "value", "value": step["value"]}
    return {"kind": "exception", "type": step["error"], "message": step["message"]}


def matches(seen: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    return seen is not None and all(seen.get(key) == value for key, value in wanted.items())


def show(thing: dict[str, Any] | None) -> str:
    if thing is None:
        return "something else"
    if thing["kind"] == "value":
        return repr(thing["value"])
    if thing["kind"] == "exception":
        return f"{thing['type']}({thing['message']!r})"
    if thing["kind"] == "list":
        return "a list of " + str(len(thing["items"])) + " results"
    return f"a {thing['type']}"


def show_step(step: dict[str, Any]) -> str:
    verbs = {"value": "returns", "raise": "raises", "return_error": "returns the exception object"}
    verb = verbs[step["kind"]]
    return f"{verb} {show(expected(step))} after {step['after']:.2f} s"


def show_outcome(outcome: dict[str, Any]) -> str:
    if outcome["how"] == "returned":
        return f"returned {show(outcome['result'])}"
    error = outcome["error"]
    where = f" (at tasks.py line {error['lines'][-1]})" if error["lines"] else ""
    return f"raised {error['type']}({error['message']!r}){where}"


def raised(outcome: dict[str, Any], step: dict[str, Any]) -> bool:
    """Whether the outcome is the exception that this step raises or returns."""
    error = outcome.get("error")
    return error is not None and (error["type"], error["message"]) == (step["error"], step["message"])


def fail(message: str) -> NoReturn:
    raise AssertionError(message)


def shuffle_keeping_inside(
    rng: random.Random, steps: list[dict[str, Any]], inside: dict[str, Any]
) -> list[dict[str, Any]]:
    """The steps in random order, with `inside` neither first nor last."""
    others = [step for step in steps if step is not inside]
    rng.shuffle(others)
    others.insert(rng.randint(1, len(others) - 1), inside)
    return others


def success_that_looks_false(step: dict[str, Any]) -> str:
    """Advice for a winner whose value is false, which a check of the result's truth skips."""
    if step["kind"] != "value" or step["value"]:
        return ""
    return (f" A call that returns {step['value']!r} has succeeded like any other: a call has failed only"
            " when it raised, which future.exception() tells; do not judge by the result's truth or"
            " compare it with None.")


# -- run_all --------------------------------------------------------------------------------------


def check_run_all_results(outcome: dict[str, Any], plan: list[dict[str, Any]], call: str) -> None:
    wanted = [expected(step) for step in plan]
    if outcome["how"] == "raised":
        culprits = [i for i, step in enumerate(plan) if step["kind"] == "raise" and raised(outcome, step)]
        culprit = culprits[0] if culprits else None
        if culprit is not None:
            fail(diagnose.exception_escaped(call, show_outcome(outcome), culprit))
        fail(f"{call} {show_outcome(outcome)}; expected a list of {len(plan)} results")
    result = outcome["result"]
    assert result["kind"] == "list", f"{call} returned {show(result)}, expected a list of {len(plan)} results"
    items = result["items"]
    assert len(items) == len(wanted), f"{call} returned {len(items)} results for {len(plan)} calls"
    wrong = [i for i, (seen, want) in enumerate(zip(items, wanted)) if not matches(seen, want)]
    if not wrong:
        return
    if all_there(items, wanted):
        fail(diagnose.results_in_completion_order(call, wrong[0], show(items[wrong[0]])))
    twins = [i for i in wrong if "again_of" in plan[i]]
    if twins:
        fail(
            f"{call}: calls[{twins[0]}] is the very same call as calls[{plan[twins[0]]['again_of']}], and"
            f" position {twins[0]} holds {show(items[twins[0]])} instead of its own result"
            f" {show(wanted[twins[0]])}. Find each result's place by its position (for example with"
            " enumerate), not by looking the call up: calls.index() or a dict keyed by the call finds"
            " only one of the two."
        )
    details = "; ".join(
        f"position {i} holds {show(items[i])}, but calls[{i}] {show_step(plan[i])}" for i in wrong[:3]
    )
    advice = (" An exception a call raises belongs at its position, as an object."
              if any(plan[i]["kind"] != "value" for i in wrong) else "")
    fail(f"{call}: {details}.{advice}")


def all_there(items: list[dict[str, Any] | None], wanted: list[dict[str, Any]]) -> bool:
    """Whether every wanted result is among the items, as often as it is wanted."""
    left = list(items)
    for want in wanted:
        found = next((index for index, seen in enumerate(left) if matches(seen, want)), None)
        if found is None:
            return False
        del left[found]
    return True


@pytest.mark.group("run_all")
def test_run_all_keeps_input_order(student, rng):
    plan = [returns_value(rng, round(rng.uniform(0.0, 0.15), 3)) for _ in range(rng.randint(4, 8))]
    # One call takes far longer; with any two workers, the call after it finishes first.
    plan[rng.randrange(len(plan) - 1)]["after"] = 0.6
    for false_value in (0, None):  # what a student might take for "no result yet"
        plan.insert(rng.randint(0, len(plan)), returns_value(rng, round(rng.uniform(0.0, 0.15), 3), false_value))
    # The very same call twice (one whose value is neither 0 nor None): a result placed by looking
    # the call up lands on the first of the two.
    twin = rng.choice([index for index, step in enumerate(plan) if step["value"] not in (0, None)])
    plan.insert(rng.randint(twin + 1, len(plan)), dict(plan[twin], again_of=twin))
    max_workers = rng.randint(2, len(plan))
    outcome = student.call("run_all", plan=plan, max_workers=max_workers)
    check_run_all_results(outcome, plan, f"run_all(<{len(plan)} calls>, max_workers={max_workers})")
    nothing = student.call("run_all", plan=[], max_workers=max_workers)
    assert nothing == {"how": "returned", "result": {"kind": "list", "items": []}}, (
        f"run_all([], max_workers={max_workers}) {show_outcome(nothing)}; expected []: no calls, no results"
    )


@pytest.mark.group("run_all")
def test_run_all_keeps_exceptions_in_place(student, rng):
    n_calls = rng.randint(5, 9)
    plan = [returns_value(rng, round(rng.uniform(0.0, 0.1), 3)) for _ in range(n_calls)]
    raisers = rng.sample(range(n_calls), 3)
    errors = rng.sample(ERROR_TYPES, 3)
    for position, error, kind in zip(raisers, errors, ["raise", "raise", "return_error"]):
        plan[position] = fails(rng, round(rng.uniform(0.0, 0.1), 3), error, kind)
    max_workers = rng.randint(2, n_calls)
    outcome = student.call("run_all", plan=plan, max_workers=max_workers)
    check_run_all_results(outcome, plan, f"run_all(<{n_calls} calls>, max_workers={max_workers})")


@pytest.mark.group("run_all")
def test_run_all_respects_max_workers(student, rng):
    max_workers = rng.randint(2, 4)
    n_calls = 2 * max_workers + rng.randint(1, 3)
    seen = student.call("run_all_crowd", n_calls=n_calls, max_workers=max_workers, patience=3.0, hold=0.5)
    call = f"run_all(<{n_calls} calls>, max_workers={max_workers})"
    assert seen["peak"] <= max_workers, diagnose.too_many_at_once(call, seen["peak"], max_workers)
    assert seen["peak"] == max_workers, diagnose.too_few_at_once(call, seen["peak"])
    calls_return_their_index = [{"after": 0.0, "kind": "value", "value": i} for i in range(n_calls)]
    check_run_all_results(seen["outcome"], calls_return_their_index, call)


# -- first_success --------------------------------------------------------------------------------


def run_first_success(
    student: Sandbox, plan: list[dict[str, Any]], timeout: float
) -> tuple[dict[str, Any], float]:
    return student.timed_call("first_success", plan=plan, timeout_seconds=timeout)


@pytest.mark.group("first_success")
@pytest.mark.timing
def test_first_success_does_not_wait_for_slow_calls(student, rng):
    winner = returns_value(rng, 0.2)
    plan = [returns_value(rng, SLOW) for _ in range(rng.randint(2, 4))]
    plan.insert(rng.randint(0, len(plan)), winner)
    outcome, seconds = run_first_success(student, plan, timeout=3 * SLOW)
    # The time first: a first_success() that waits for every call may then pick any of them.
    assert seconds < QUICK_ANSWER, diagnose.waited_for_slow_calls(seconds, plan.index(winner), 0.2, len(plan) - 1, SLOW)
    assert outcome["how"] == "returned" and matches(outcome["result"], expected(winner)), (
        f"first_success {show_outcome(outcome)}; expected {show(expected(winner))}, the value of"
        f" calls[{plan.index(winner)}], the only call to succeed within {SLOW:.0f} s"
    )


@pytest.mark.group("first_success")
@pytest.mark.parametrize("winner_kind", ["returns_None", "returns_0", "returns_an_exception"])
def test_first_success_skips_failed_calls(student, rng, winner_kind):
    # Each winner returns what a student might take for a failure, and is a success all the same.
    winner = {"returns_None": returns_value(rng, 0.3, value=None), "returns_0": returns_value(rng, 0.3, value=0),
              "returns_an_exception": fails(rng, 0.3, kind="return_error")}[winner_kind]
    plan = [fails(rng, round(rng.uniform(0.0, 0.05), 3)) for _ in range(rng.randint(1, 2))]
    plan += [returns_value(rng, SLOW), winner]
    rng.shuffle(plan)
    outcome, _ = run_first_success(student, plan, timeout=3 * SLOW)
    if outcome["how"] == "returned" and matches(outcome["result"], expected(winner)):
        return
    story = f"calls[{plan.index(winner)}] {show_step(winner)}"
    early = [i for i, step in enumerate(plan) if step["kind"] == "raise" and raised(outcome, step)]
    if early:
        fail(
            f"first_success {show_outcome(outcome)}, the exception of calls[{early[0]}], which failed first,"
            f" but {story}: a failed call does not win. Skip the calls whose future.exception() is"
            " not None and wait for the next one to finish."
        )
    if winner_kind == "returns_an_exception":
        fail(
            f"first_success {show_outcome(outcome)}, but {story}: returning an exception object is"
            " a success like any other value. Only a call that raises has failed: ask"
            " future.exception(), not isinstance(result, Exception)."
        )
    fail(f"first_success {show_outcome(outcome)}, but {story}; expected {show(expected(winner))}."
         + success_that_looks_false(winner))


@pytest.mark.group("first_success")
@pytest.mark.timing
def test_first_success_raises_timeout_error_in_time(student, rng):
    timeout = round(rng.uniform(0.3, 0.6), 2)
    plan = [fails(rng, 0.05)] + [returns_value(rng, SLOW) for _ in range(rng.randint(1, 3))]
    rng.shuffle(plan)
    outcome, seconds = run_first_success(student, plan, timeout=timeout)
    assert outcome["how"] == "raised" and outcome["error"]["timeout"], (
        diagnose.no_timeout_error(show_outcome(outcome), timeout))
    assert seconds < timeout + 1.0, diagnose.timeout_error_late(seconds, timeout)
    assert seconds >= 0.9 * timeout, (
        f"first_success raised TimeoutError after {seconds:.2f} s, before timeout={timeout} s had passed"
    )


@pytest.mark.group("first_success")
def test_first_success_reraises_the_last_failure(student, rng):
    errors = rng.sample(ERROR_TYPES, 4)
    by_end = [fails(rng, 0.05 + 0.2 * rank, error) for rank, error in enumerate(errors)]
    first, last = by_end[0], by_end[-1]
    plan = shuffle_keeping_inside(rng, by_end, inside=last)
    outcome, seconds = run_first_success(student, plan, timeout=3 * SLOW)
    story = (f"every call failed, the last one was calls[{plan.index(last)}], which {show_step(last)}")
    if raised(outcome, first):
        fail(diagnose.first_failure_reraised(show_outcome(outcome), plan.index(first), first["after"], story))
    assert raised(outcome, last), f"first_success {show_outcome(outcome)}, but {story}: re-raise that one"
    assert seconds < last["after"] + QUICK_ANSWER, (
        f"first_success took {seconds:.1f} s, although every call had failed after {last['after']:.2f} s:"
        " raise the last failure as soon as no call is left running"
    )


@pytest.mark.group("first_success")
@pytest.mark.timing
def test_first_success_when_all_fail_at_once(student, schedules, exercise, rng):
    plan = [fails(rng, 0.0) for _ in range(5)]  # no more than the smallest default pool: 5 threads
    # The calls wait at most 0.5 s for each other, so they have all failed long before the
    # timeout, even on a pool too small to run them all at once.
    try:
        outcomes = student.call(
            "first_success_under_preemption", plan=plan, timeout_seconds=1.5, meet_within=0.5,
            seeds=schedules.seeds(SCHEDULES), timeout=SCHEDULES * 1.5 + 10,
        )
    except StudentCodeHung as hang:
        fail(f"deadlock: first_success never returned, although all {len(plan)} calls had failed at once"
             f" and its timeout was 1.5 s. {hang} ({schedules.replay_hint()})")
    wrong = [outcome for outcome in outcomes if not any(raised(outcome, step) for step in plan)]
    lost_count = [outcome for outcome in wrong if outcome["how"] == "raised" and outcome["error"]["timeout"]]
    assert not lost_count, (
        f"first_success {show_outcome(lost_count[0])} in {len(lost_count)} of {SCHEDULES} forced schedules,"
        f" although all {len(plan)} calls had failed at the same moment: it should re-raise one of their"
        " exceptions at once. It lost count of the calls that had ended, as `remaining -= 1` from several"
        " threads without a lock does (a lost update). Let as_completed() count for you, or hold a lock"
        f" around the count. {story(exercise, lost_count)}({schedules.replay_hint()})"
    )
    assert not wrong, (
        f"first_success {show_outcome(wrong[0])}, although all {len(plan)} calls had failed at the same"
        f" moment: re-raise the exception of one of them. {story(exercise, wrong)}({schedules.replay_hint()})"
    )


def story(exercise: Any, outcomes: list[dict[str, Any]]) -> str:
    """The interleaving of the first of these forced schedules, in the student's own lines, from
    what the sandbox's child reported, and a space; empty when it cannot be told."""
    told = first_story(f"{exercise.module}.py", [outcome.get("pause") for outcome in outcomes])
    return f"{told} " if told else ""


# -- map_processes --------------------------------------------------------------------------------

START_METHODS = multiprocessing.get_all_start_methods()


def check_it_returned(outcome: dict[str, Any], call: str) -> None:
    """Fail if the call raised, explaining the classic pickling error."""
    if outcome["how"] != "raised":
        return
    error = outcome["error"]
    if error["pickling"] or "pickl" in f"{error['type']} {error['message']}".lower():
        fail(diagnose.not_picklable(call, show_outcome(outcome)))
    fail(f"{call} {show_outcome(outcome)}")


@pytest.mark.group("processes")
@pytest.mark.parametrize("start_method", START_METHODS)
def test_map_processes_runs_items_in_worker_processes(sandbox, rng, start_method):
    student = sandbox("student", start_method=start_method)
    max_workers = rng.randint(2, 3)
    tokens = rng.sample(range(10**6), 2 * max_workers + rng.randint(0, 3))
    tokens.insert(rng.randint(0, len(tokens)), rng.choice(tokens))  # the same item twice
    call = f"map_processes(fn, <{len(tokens)} items>, max_workers={max_workers}) under {start_method}"
    seen = student.call("map_processes_workers", tokens=tokens, max_workers=max_workers, patience=8.0)
    outcome = seen["outcome"]
    check_it_returned(outcome, call)
    pairs = outcome["result"].get("items")
    assert pairs is not None and [pair[0] if pair else None for pair in pairs] == tokens, (
        f"{call} returned {pairs if pairs is not None else show(outcome['result'])}; expected fn's result"
        " [item's token, process id] for every item, in the order of the items"
    )
    pids = {pid for _, pid in pairs}
    assert pids != {seen["caller"]}, diagnose.ran_in_calling_process(call)
    assert len(pids) > 1, f"{call} ran every item in one single worker process; expected up to {max_workers}"
    assert seen["caller"] not in pids, f"{call} ran some items in the calling process; use worker processes"
    assert len(pids) <= max_workers, f"{call} used {len(pids)} worker processes, more than max_workers"
    nothing = student.call("map_processes_of_nothing", max_workers=max_workers)
    assert nothing == {"how": "returned", "result": {"kind": "list", "items": []}}, (
        f"map_processes(fn, [], max_workers={max_workers}) under {start_method} {show_outcome(nothing)};"
        " expected []: no items, no results"
    )
