"""Hidden suite for 04_event: a Heartbeat that beats on time, idles for free and stops on time.

Every duration that decides a verdict is measured here, in the grading process, and every beat
is counted by the trusted callback in probes.py. Each bar is either a hard limit that no
correct heartbeat can cross (no more beats than whole intervals fit in the time measured), or
sits far from both sides (a correct stop() needs milliseconds, a sleeping one a whole interval).
"""

import math
import time
from random import Random

import pytest

from grader.harness.sandbox import Sandbox, StudentCodeHung
from grader.harness.timing import can_read_cpu_time_of_other_processes
from student_runtime.diagnoses import ex04_event as diagnose
from student_runtime.race_story import first_story

PROMPT_STOP = 1.0  # seconds; the contract says 0.2 s, a sleeping thread needs the whole interval
STOP_DEADLINE = 3.0  # a stop() still busy after this long is reported as stuck, with its stacks
SETTLE = 0.5  # seconds for a just-started thread to reach its first wait
SLOW_CALLBACK = 0.5  # how long the slow callback keeps running after stop() has been called
# Share of one core a waiting heartbeat may use. A correct one uses about 0.05%; one that spins
# gets all the CPU the machine gives it, 30% or more even on a loaded 2-core machine.
MAX_IDLE_CPU = 0.05
SLOWEST_PACE = 0.6  # a correct heartbeat on a busy machine still beats at least this fast
EARLY_WAKEUP = 0.05  # intervals of clock tolerance before a beat counts as too early
# The race check's forced schedules. A racy stop() leaves a window of only a few opcodes, so
# the check preempts at half of the opcodes (the kit's default is a tenth) and runs many cheap
# schedules: a third to two thirds of them hit the window, even on a loaded machine.
SCHEDULES = 40
PREEMPTION_RATE = 0.5


def call_or_fail(sandbox: Sandbox, what: str, advice: str, probe: str, timeout: float, **kwargs):
    """sandbox.timed_call(), failing with `what` and `advice` when the student's code hangs."""
    try:
        return sandbox.timed_call(probe, timeout=timeout, **kwargs)
    except StudentCodeHung as hung:
        raise AssertionError(f"{what} did not return within {timeout:.0f} s. {advice}\n{hung}") from None


def stop_or_fail(sandbox: Sandbox, interval: float, deadline: float = STOP_DEADLINE):
    try:
        return sandbox.timed_call("stop", timeout=deadline)
    except StudentCodeHung as hung:
        raise AssertionError(
            f"{diagnose.stop_not_returned(deadline, interval)} A deadlock looks the same: the stacks"
            f" below show where each thread was waiting.\n{hung}"
        ) from None


# -- timing -------------------------------------------------------------------------------------


@pytest.mark.group("timing")
@pytest.mark.timing
def test_first_beat_comes_one_interval_after_start(student, rng):
    interval = rng.uniform(0.5, 0.8)
    seen, took = student.timed_call("start", interval=interval, wait_for_beats=1)
    assert seen["started"] >= 1, f"no beat within {took:.1f} s of start(); the interval is {interval:.2f} s"
    assert took >= interval / 2, diagnose.first_beat_at_once(took, interval)
    stop_or_fail(student, interval)


@pytest.mark.group("timing")
@pytest.mark.timing
def test_beats_keep_pace_with_the_interval(student, rng):
    interval, window = rng.uniform(0.08, 0.12), rng.uniform(1.0, 1.3)
    calling_start = time.perf_counter()
    student.call("start", interval=interval)
    started = time.perf_counter()
    time.sleep(window)
    stopping = time.perf_counter()
    seen, _ = stop_or_fail(student, interval)
    stopped = time.perf_counter()
    # The pace is judged on the beats that had started when stop() was called: a beat that
    # stop() itself causes is the stop group's verdict (test_stop_never_adds_a_beat), and
    # counting it here would fail or pass this test by the phase stop() happens to fall in.
    # Those beats started after calling_start and were counted before stopped, so at most this
    # many whole intervals fit; between started and stopping the heartbeat surely ran.
    most = math.floor((stopped - calling_start) / interval + EARLY_WAKEUP)
    least = math.floor(SLOWEST_PACE * (stopping - started) / interval)
    beats = seen["before_stop"]["started"]
    assert beats <= most, diagnose.too_many_beats(beats, stopped - calling_start, interval, most)
    assert beats >= least, diagnose.too_few_beats(beats, stopping - started, interval, least)


@pytest.mark.group("timing")
@pytest.mark.timing
def test_beats_counts_completed_callbacks(student, rng):
    count = rng.randint(2, 4)
    seen = student.call("beats_during_callbacks", interval=rng.uniform(0.03, 0.06), count=count, hold=1.0)
    assert len(seen["reads"]) == count, f"only {len(seen['reads'])} callbacks within 5 s, expected {count}"
    for read in seen["reads"]:
        number, value = read["beat"], read["beats"]
        assert isinstance(value, int), f"beats returned {value}, expected an int"
        assert value <= read["finished_after"], diagnose.beat_counted_too_early(value, number)
        assert value >= number - 1, (
            f"beats was {value} during the {diagnose.ordinal(number)} callback, although {number - 1}"
            " callbacks had already completed"
        )
    final = seen["after_stop"]
    assert final["beats"] == final["finished"], diagnose.beats_miscounted(final["beats"], final["finished"])


# -- stop ---------------------------------------------------------------------------------------


@pytest.mark.group("stop")
@pytest.mark.timing
def test_stop_is_prompt_even_with_a_long_interval(student, rng):
    interval = rng.uniform(8, 12)
    student.call("start", interval=interval)
    time.sleep(SETTLE)
    _, took = stop_or_fail(student, interval, deadline=PROMPT_STOP)  # a slower stop() has failed already
    assert took < PROMPT_STOP, diagnose.stop_not_returned(took, interval)


@pytest.mark.group("stop")
@pytest.mark.timing
@pytest.mark.parametrize("callback", ["quick", "slow"])
def test_no_callback_runs_after_stop_returns(student, callback, rng):
    interval = rng.uniform(0.03, 0.06)
    if callback == "slow":  # stop() is called while the first beat is running
        student.call("start", interval=interval, wait_for_beats=1, hold_first_beat=SLOW_CALLBACK)
    else:
        student.call("start", interval=interval, wait_for_beats=3)
    at_stop, _ = stop_or_fail(student, interval)
    assert at_stop["started"] == at_stop["finished"], (
        diagnose.callback_running_after_stop(callback, at_stop["started"], at_stop["finished"]))
    watching = max(0.5, 10 * interval)
    time.sleep(watching)
    extra = student.call("snapshot")["started"] - at_stop["started"]
    assert extra == 0, diagnose.beats_after_stop(extra, watching)


@pytest.mark.group("stop")
def test_stop_never_adds_a_beat(student, schedules, exercise, rng):
    seeds = schedules.seeds(SCHEDULES)
    pauses = [rng.uniform(0.002, 0.01) for _ in seeds]
    interval = rng.uniform(5, 8)
    runs, _ = call_or_fail(
        student, f"Starting and stopping {SCHEDULES} heartbeats",
        "stop() waits out the interval: wait with Event.wait(interval).",
        "stops_under_preemption", 10, seeds=seeds, pauses=pauses, interval=interval, rate=PREEMPTION_RATE,
    )
    with_extra = [run for run in runs if not isinstance(run, dict) or run.get("beats") != 0]
    told = first_story(f"{exercise.module}.py", [run.get("pause") for run in with_extra if isinstance(run, dict)])
    assert not with_extra, (
        f"extra beat: stop(), called a few milliseconds after start() with an interval of"
        f" {interval:.1f} s, made the callback run in {len(with_extra)} of {SCHEDULES} forced"
        " schedules." + (f" {told}" if told else "") + " Let the Event itself be the stop request, and leave the"
        f" loop as soon as it is set: `while not event.wait(interval): callback()`. ({schedules.replay_hint()})"
    )


# -- idle ---------------------------------------------------------------------------------------


@pytest.mark.group("idle")
def test_waiting_between_beats_uses_no_cpu(student, rng):
    interval, window = rng.uniform(0.2, 0.3), rng.uniform(1.0, 1.2)
    if not can_read_cpu_time_of_other_processes():
        pytest.skip("this OS does not let the grader read the CPU time of your process")
    student.call("start", interval=interval)
    measuring = time.perf_counter()
    _, used = student.cpu_timed_call("idle", seconds=window)  # CPU time read by this process from the kernel
    wall = time.perf_counter() - measuring
    beats = student.call("snapshot")["started"]
    assert beats >= 1, f"no beat within {wall:.1f} s with an interval of {interval:.2f} s"
    share = used / wall
    assert share < MAX_IDLE_CPU, diagnose.busy_waiting(share, wall, MAX_IDLE_CPU)
    stop_or_fail(student, interval)


# -- errors -------------------------------------------------------------------------------------


def run_steps(sandbox: Sandbox, steps: list[str], rng: Random) -> list:
    """What each of start()/stop() raised when called in this order on one Heartbeat."""
    sequence = ", ".join(f"{step}()" for step in steps)
    outcomes, _ = call_or_fail(
        sandbox, f"The sequence {sequence}",
        "A deadlock, or stop() waits for a thread that never runs.",
        "misuse", STOP_DEADLINE * len(steps), interval=rng.uniform(0.03, 0.06), steps=steps,
    )
    return outcomes


def describe(steps: list[str], index: int, outcome: dict) -> str:
    return diagnose.call_raised(steps, index, outcome["type"], outcome["message"])


@pytest.mark.group("errors")
def test_start_twice_raises_runtime_error(student, rng):
    steps = ["start", "start", "stop"]
    first, second, last = run_steps(student, steps, rng)
    assert first is None, describe(steps, 0, first)
    assert second is not None, diagnose.start_twice_accepted()
    assert second["runtime_error"], f"{describe(steps, 1, second)}; expected RuntimeError"
    assert last is None, describe(steps, 2, last)


@pytest.mark.group("errors")
@pytest.mark.parametrize("steps", [["stop"], ["stop", "stop"], ["start", "stop", "stop"]],
                         ids=["before_start", "twice_before_start", "twice"])
def test_stop_is_safe_before_start_and_twice(student, steps, rng):
    for index, outcome in enumerate(run_steps(student, steps, rng)):
        assert outcome is None, diagnose.stop_not_safe(steps, index, outcome["type"], outcome["message"])
