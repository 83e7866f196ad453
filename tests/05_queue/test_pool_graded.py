"""Hidden suite for 05_queue: a ThreadPool of n workers fed from one queue.Queue."""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any

import pytest

from grader.harness.sandbox import Sandbox, StudentCodeHung
from grader.harness.timing import can_read_cpu_time_of_other_processes
from student_runtime.diagnoses import ex05_queue as diagnose
from student_runtime.race_story import first_story

# A correct pool answers every probe in well under a second; a pool that is stuck is reported
# after this many seconds instead of the manifest's 30.
HANG_SECONDS = 10
SCHEDULES = 5  # forced schedules per race check
IDLE_SECONDS = 0.6  # how long an idle pool is watched
IDLE_CPU_SHARE = 0.1  # of one core: a pool that waits in queue.get() uses next to nothing


# Task results a pool must pass on like any other, in every batch of tokens: a pool that takes
# one of them for "no result yet" or "stop" loses it or hangs.
SENTINELS = [None, 0, -1, False, ""]


def tokens(rng: Random, count: int) -> list[Any]:
    """`count` fresh random task results, readable in a failure message, and the SENTINELS,
    in random order."""
    results = [f"task{index}-{rng.getrandbits(16):04x}" for index in range(count)] + SENTINELS
    rng.shuffle(results)
    return results


def reported(results: list[Any]) -> list[Any]:
    """Task results as the probes report them: None, ints and bools as {"exact": repr}."""
    return [value if type(value) is str else {"exact": repr(value)} for value in results]


def call(student: Sandbox, probe: str, *, stuck: str, timeout: float = HANG_SECONDS, **kwargs: Any) -> Any:
    """student.call(), with a hang explained in terms of the pool (`stuck` says what hung)."""
    try:
        return student.call(probe, timeout=timeout, **kwargs)
    except StudentCodeHung as hang:
        raise AssertionError(f"{stuck}\n{hang}") from None


def describe(result: Any) -> str:
    if isinstance(result, dict) and "raised" in result:
        return f"{result['raised']}({result['message']!r})"
    if isinstance(result, dict) and "exact" in result:
        return result["exact"]
    if isinstance(result, dict):
        return f"<{result['unexpected']}>"
    return repr(result)


def differences(got: list[Any] | str, expected: list[Any], shown: int = 3) -> str:
    """The first few positions where join()'s results differ from the expected ones."""
    if isinstance(got, str):  # what the probe says about a join() that returned no list
        return f"join() returned {got}"
    if len(got) != len(expected):
        return f"{len(got)} results for {len(expected)} tasks"
    wrong = [i for i, (mine, right) in enumerate(zip(got, expected)) if mine != right]
    return "; ".join(
        f"result {i} was {describe(got[i])}, expected {describe(expected[i])}" for i in wrong[:shown]
    ) + (f" (and {len(wrong) - shown} more)" if len(wrong) > shown else "")


# -- results ----------------------------------------------------------------------------------


@pytest.mark.group("results")
def test_results_come_back_in_submission_order(student, rng):
    n_workers = rng.randint(2, 5)
    sent = tokens(rng, rng.randint(40, 200))
    expected = reported(sent)
    seen = call(student, "results_in_submission_order", n_workers=n_workers, tokens=sent, patience=3.0,
                linger=0.5,
                stuck=f"join() never returned for {len(expected)} tasks on ThreadPool({n_workers}).")
    calls = seen["calls"]
    wrong_calls = [(i, n) for i, n in enumerate(calls) if n != 1]
    assert not wrong_calls, (
        "every task must run exactly once: "
        + ", ".join(f"task {i} ran {n} times" for i, n in wrong_calls[:5])
    )
    results = seen["results"]
    assert seen["finished_at_join"] == len(expected), (
        diagnose.join_before_tasks_finished(seen["finished_at_join"], len(expected)))
    if isinstance(results, list) and results != expected and sorted(map(str, results)) == sorted(map(str, expected)):
        in_completion_order = [expected[i] for i in seen["completion_order"]]
        raise AssertionError(
            diagnose.results_out_of_order(results == in_completion_order, differences(results, expected)))
    assert results == expected, (
        f"{len(expected)} tasks on ThreadPool({n_workers}), each returning its own string (passed as"
        f" a keyword argument): {differences(results, expected)}"
    )


@pytest.mark.group("results")
def test_join_returns_only_the_tasks_since_the_last_join(student, rng):
    first, second = tokens(rng, rng.randint(3, 12)), tokens(rng, rng.randint(3, 12))
    batches = [first, second, []]
    answers = call(student, "batches_joined_one_by_one", n_workers=rng.randint(1, 4), batches=batches,
                   stuck="join() never returned (a second join(), or a join() with no new tasks, must return too).")
    for number, (answer, batch) in enumerate(zip(answers, map(reported, batches)), start=1):
        assert answer == batch, (
            diagnose.join_batch_wrong(number, len(batch), differences(answer, batch), len(answer) > len(batch)))


@pytest.mark.group("results")
def test_one_worker_runs_tasks_in_fifo_order(student, rng):
    count = rng.randint(5, 20)
    order = call(student, "run_order_of_one_worker", count=count, patience=5.0,
                 stuck="join() never returned on ThreadPool(1).")
    assert order == list(range(count)), diagnose.not_fifo(order)


@pytest.mark.group("results")
def test_no_result_is_lost_under_forced_interleavings(student, schedules, exercise, rng):
    n_workers, sent = rng.randint(3, 5), tokens(rng, rng.randint(40, 80))
    expected = reported(sent)
    reports = call(student, "results_under_forced_interleavings", seeds=schedules.seeds(SCHEDULES),
                   n_workers=n_workers, tokens=sent, patience=5.0,
                   stuck="the pool never finished under forced thread switches.", timeout=20)
    outcomes = [report.get("result") if isinstance(report, dict) else report for report in reports]

    def story(went_wrong: Callable[[Any], bool]) -> str:
        """The interleaving of the first schedule that went wrong, in the student's lines, and a space."""
        told = first_story(f"{exercise.module}.py", [report.get("pause") for report, outcome in zip(reports, outcomes)
                                                     if isinstance(report, dict) and went_wrong(outcome)])
        return f"{told} " if told else ""

    assert "hung" not in outcomes, (
        f"lost update: with thread switches forced inside pool.py, join() on ThreadPool({n_workers})"
        f" never returned for {len(expected)} tasks. A count of unfinished tasks shared by the workers"
        " probably lost an update: protect it with a Lock, or let queue.Queue do the counting with"
        f" task_done() and join(). {story(lambda outcome: outcome == 'hung')}({schedules.replay_hint()})"
    )
    wrong = [outcome for outcome in outcomes if outcome != expected]
    assert not wrong, (
        f"lost update: with thread switches forced inside pool.py, join() on ThreadPool({n_workers})"
        f" went wrong in {len(wrong)} of {SCHEDULES} schedules ({differences(wrong[0], expected)})."
        " Two threads changed the pool's shared state at once: protect it with a Lock."
        f" {story(lambda outcome: outcome != expected)}({schedules.replay_hint()})"
    )


# -- workers ----------------------------------------------------------------------------------


@pytest.mark.group("workers")
def test_exactly_n_workers_run_every_task(student, rng):
    n_workers = rng.randint(2, 6)
    batch_sizes = [rng.randint(10, 40) for _ in range(3)]
    seen = call(student, "threads_that_run_tasks", n_workers=n_workers, batch_sizes=batch_sizes,
                stuck=f"ThreadPool({n_workers}) never finished its tasks.")
    pool = f"ThreadPool({n_workers})"
    assert seen["tasks"] == sum(batch_sizes), f"{pool} ran {seen['tasks']} of {sum(batch_sizes)} tasks"
    assert not seen["ran_on_caller"], (
        f"{pool} ran tasks on the thread that called submit() or join(): tasks belong on the workers"
    )
    assert seen["runners"] <= n_workers, diagnose.thread_per_task(seen["runners"], seen["tasks"], n_workers)
    assert seen["started_in_init"] == n_workers, diagnose.workers_started_in_init(seen["started_in_init"], n_workers)
    assert not seen["runners_not_started_in_init"], (
        f"{seen['runners_not_started_in_init']} threads that {pool} did not start in __init__ ran its"
        " tasks: only the workers started in __init__ may run them"
    )
    assert seen["most_alive"] == n_workers, (
        f"{pool} had {seen['most_alive']} threads alive at once, expected exactly {n_workers}"
    )


@pytest.mark.group("workers")
@pytest.mark.timing
def test_blocking_tasks_run_n_at_a_time(student, rng):
    n_workers = rng.randint(2, 5)
    count = n_workers + rng.randint(n_workers, 2 * n_workers)
    seen = call(student, "blocking_tasks", n_workers=n_workers, count=count, patience=3.0, settle=0.5,
                stuck=f"ThreadPool({n_workers}) never finished {count} tasks that wait for each other.")
    pool = f"ThreadPool({n_workers})"
    assert seen["peak"] <= n_workers, (
        f"more than {n_workers} tasks in flight: {pool} ran {seen['peak']} of {count} blocking tasks at"
        f" the same time. Only the {n_workers} workers may run tasks; the rest wait in the queue."
    )
    assert seen["peak_while_blocked"] == n_workers, (
        diagnose.tasks_not_concurrent(count, seen["peak_while_blocked"], n_workers))
    assert seen["results"] == ["done"] * count, (
        f"{count} tasks on {pool}: {differences(seen['results'], ['done'] * count)}"
    )


@pytest.mark.group("workers")
def test_idle_pool_burns_no_cpu(student, rng):
    if not can_read_cpu_time_of_other_processes():
        pytest.skip("this OS does not let the grader read the CPU time of your process")
    n_workers = rng.randint(2, 4)
    call(student, "start_idle_pool", n_workers=n_workers, warm_up_tasks=rng.randint(5, 20),
         stuck=f"ThreadPool({n_workers}) never finished a few quick tasks.")
    _, used = student.cpu_timed_call("idle", seconds=IDLE_SECONDS)  # read by this process from the kernel
    call(student, "stop_idle_pool", stuck=f"shutdown() of an idle ThreadPool({n_workers}) never returned.")
    assert used <= IDLE_CPU_SHARE * IDLE_SECONDS, diagnose.busy_waiting(n_workers, used, IDLE_SECONDS, IDLE_CPU_SHARE)


# -- errors -----------------------------------------------------------------------------------

EXCEPTION_NAMES = ["ValueError", "RuntimeError", "ZeroDivisionError", "LookupError"]


@pytest.mark.group("errors")
def test_a_failing_task_stands_in_its_place(student, rng):
    n_workers = rng.randint(1, 4)
    returned = tokens(rng, rng.randint(15, 40))
    count = len(returned)
    failing = set(rng.sample(range(count), n_workers + rng.randint(1, 4)))  # more than the workers
    plan = [["raise", rng.choice(EXCEPTION_NAMES), f"boom-{rng.getrandbits(24):06x}"] if index in failing
            else ["return", token] for index, token in enumerate(returned)]
    expected = [{"raised": step[1], "message": step[2]} if step[0] == "raise" else reported([step[1]])[0]
                for step in plan]
    sent_then = tokens(rng, rng.randint(3, 8))
    then = reported(sent_then)
    seen = call(
        student, "failing_tasks", n_workers=n_workers, plan=plan, then=sent_then, timeout=5,
        stuck=f"join() never returned: {diagnose.exception_ends_worker(len(failing), count, n_workers)}",
    )
    batch = {"first": f"after {len(failing)} of {count} tasks raised", "second": "on the tasks sent after those"}
    assert "stranded" not in seen, diagnose.every_worker_ended(batch.get(seen["stranded"], ""), n_workers)
    assert seen["first"] == expected, (
        f"{len(failing)} of {count} tasks raised on ThreadPool({n_workers}); each must leave its"
        f" exception object in its place and the others their results: {differences(seen['first'], expected)}"
    )
    assert seen["second"] == then, diagnose.failure_stopped_worker(n_workers, differences(seen["second"], then))
    assert seen["alive"] == n_workers, (
        f"after tasks raised, {seen['alive']} of ThreadPool({n_workers})'s worker threads were alive,"
        f" expected {n_workers}: a failing task must not end its worker"
    )


@pytest.mark.group("errors")
def test_fewer_than_one_worker_is_a_value_error(student, rng):
    for n_workers in (0, -1, -rng.randint(2, 9)):
        raised = call(student, "construct", n_workers=n_workers, stuck=f"ThreadPool({n_workers}) never returned.")
        assert raised == "ValueError", (
            f"ThreadPool({n_workers}) {'raised ' + raised if raised else 'raised nothing'}:"
            " a pool needs at least one worker; raise ValueError"
        )


# -- shutdown ---------------------------------------------------------------------------------


@pytest.mark.group("shutdown")
def test_shutdown_lets_queued_tasks_finish_then_stops_every_worker(student, rng):
    n_workers, queued, busy_seconds = rng.randint(1, 4), rng.randint(3, 15), 0.5
    seen = call(student, "shutdown_while_busy", n_workers=n_workers, queued=queued, busy_seconds=busy_seconds,
                stuck=f"shutdown() never returned for ThreadPool({n_workers}) with {queued} queued tasks.")
    total = n_workers + queued
    assert seen["finished"] == total, diagnose.shutdown_dropped_tasks(seen["finished"], total, queued)
    assert not seen["still_alive"], diagnose.threads_alive_after_shutdown(seen["still_alive"])


@pytest.mark.group("shutdown")
def test_submit_after_shutdown_raises_runtime_error(student, rng):
    facts = call(student, "shutdown_contract", n_workers=rng.randint(1, 4), tokens=tokens(rng, rng.randint(2, 9)),
                 stuck="shutdown(), the with-block or submit() after shutdown() never returned.")
    raised = facts["submit_after_shutdown"]
    assert raised == "RuntimeError", diagnose.submit_after_shutdown(raised)


@pytest.mark.group("shutdown")
def test_shutdown_twice_and_the_with_block(student, rng):
    n_workers, sent = rng.randint(1, 4), tokens(rng, rng.randint(2, 9))
    facts = call(student, "shutdown_contract", n_workers=n_workers, tokens=sent,
                 stuck="shutdown(), the with-block or submit() after shutdown() never returned.")
    assert facts["enter_returned"] == "the pool", (
        f"`with ThreadPool({n_workers}) as pool:` gave pool = {facts['enter_returned']}: __enter__ must return self"
    )
    assert facts["ran_in_block"] == len(sent) and facts["alive_after_block"] == 0, (
        f"leaving a with-block that submitted {len(sent)} tasks, {facts['ran_in_block']} had run and"
        f" {facts['alive_after_block']} pool threads were still alive: __exit__ must call shutdown()"
    )
    assert facts["second_shutdown"] is None, (
        f"a second shutdown() raised {facts['second_shutdown']}: shutdown() must be idempotent (the"
        " second call returns at once)"
    )
    assert facts["exception_propagated"] and facts["alive_after_failed_block"] == 0, (
        "an exception raised inside `with ThreadPool(n) as pool:` must still shut the pool down and"
        f" then propagate ({'it propagated' if facts['exception_propagated'] else '__exit__ swallowed it'},"
        f" {facts['alive_after_failed_block']} pool threads alive): __exit__ calls shutdown() and returns None"
    )
