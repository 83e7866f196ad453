"""Quick checks for heartbeat.py. Run: python -m pytest exercises/04_event

The hidden grading suite checks the same things more thoroughly (random intervals, more
schedules), and also what `beats` says while a callback is still running.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import heartbeat
from student_runtime.preempt import forced_interleavings


class Calls:
    """A callback that notes when each of its calls started and finished."""

    def __init__(self, duration: float = 0.0) -> None:
        self.duration = duration
        self.started: list[float] = []
        self.finished: list[float] = []
        self.first_started = threading.Event()

    def __call__(self) -> None:
        self.started.append(time.monotonic())
        self.first_started.set()
        time.sleep(self.duration)
        self.finished.append(time.monotonic())


@contextmanager
def running(beat: heartbeat.Heartbeat) -> Iterator[heartbeat.Heartbeat]:
    """Start the heartbeat, and stop it however the test ends."""
    beat.start()
    try:
        yield beat
    finally:
        beat.stop()


@pytest.mark.timing
def test_first_beat_comes_one_interval_after_start():
    calls = Calls()
    beat = heartbeat.Heartbeat(0.3, calls)
    starting = time.monotonic()
    with running(beat):
        assert calls.first_started.wait(3), "no beat within 3 s with an interval of 0.3 s"
    waited = calls.started[0] - starting
    assert waited >= 0.15, f"first beat at once: it came {waited:.2f} s after start(); the interval is 0.3 s"


@pytest.mark.timing
def test_beats_keep_pace_with_the_interval():
    calls = Calls()
    beat = heartbeat.Heartbeat(0.1, calls)
    starting = time.monotonic()
    with running(beat):
        time.sleep(1.0)
    intervals = (time.monotonic() - starting) / 0.1  # a busy machine may sleep longer than asked
    assert 0.6 * intervals <= len(calls.finished) <= intervals + 0.5, (
        f"{len(calls.finished)} beats in {intervals / 10:.2f} s with an interval of 0.1 s;"
        f" expected about {intervals:.0f}"
    )
    assert beat.beats == len(calls.finished), (
        f"beats is {beat.beats}, but the callback completed {len(calls.finished)} times"
    )


@pytest.mark.timing
def test_stop_is_prompt_even_with_a_long_interval():
    beat = heartbeat.Heartbeat(3, Calls())
    beat.start()
    time.sleep(0.3)
    # stop() runs on a thread of its own, so that a slow one fails this test at once instead of
    # holding it up for the rest of the interval.
    stopped = threading.Event()
    threading.Thread(target=lambda: (beat.stop(), stopped.set()), daemon=True).start()
    assert stopped.wait(1.0), (
        "stop() had not returned 1 s after it was called, with an interval of 3 s: time.sleep()"
        " cannot be cut short; wait with Event.wait(interval) instead, which returns as soon as"
        " stop() sets the event"
    )


def test_no_callback_runs_after_stop_returns():
    calls = Calls(duration=0.3)  # stop() is called while this slow callback runs
    with running(heartbeat.Heartbeat(0.05, calls)) as beat:
        assert calls.first_started.wait(3), "no beat within 3 s with an interval of 0.05 s"
        beat.stop()
        assert len(calls.finished) == len(calls.started), (
            "the callback was still running when stop() returned: wait for the thread to end"
        )
        beats_at_stop = len(calls.started)
        time.sleep(0.3)
    assert len(calls.started) == beats_at_stop, (
        f"{len(calls.started) - beats_at_stop} callbacks started after stop() had returned"
    )


def test_stop_never_adds_a_beat(schedules):
    # First as the threads run by themselves: a heartbeat that beats on every stop() fails here.
    calls = Calls()
    with running(heartbeat.Heartbeat(0.3, calls)):
        time.sleep(0.005)
    assert not calls.started, (
        "extra beat: stop(), called 5 ms after start() with an interval of 0.3 s, made the callback"
        " run: after the wait, check whether stop() was called before calling the callback"
    )
    # Then with thread switches forced at random points inside heartbeat.py (at every other
    # opcode), so that a stop() request slips in between the thread's steps wherever it can.
    for seed in schedules.seeds(10):
        calls = Calls()
        with forced_interleavings([heartbeat], seed, rate=0.5), running(heartbeat.Heartbeat(0.3, calls)):
            time.sleep(0.005)
        assert not calls.started, (
            "extra beat: stop(), called 5 ms after start() with an interval of 0.3 s, made the"
            " callback run when the threads switched at an unlucky moment: the check that stop()"
            f" was called and the callback must not be separated by a switch ({schedules.replay_hint()})"
        )


def test_waiting_between_beats_uses_no_cpu():
    with running(heartbeat.Heartbeat(0.25, Calls())):
        cpu_before, wall_before = time.process_time(), time.monotonic()
        time.sleep(1.0)
        share = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
    assert share < 0.05, f"busy waiting: the heartbeat used {share:.0%} of a CPU core while waiting"


def test_start_twice_raises_runtime_error():
    with running(heartbeat.Heartbeat(0.05, Calls())) as beat:
        try:
            beat.start()
        except RuntimeError:
            pass
        else:
            raise AssertionError("start() twice was accepted; the second call should raise RuntimeError")


def test_stop_is_safe_before_start_and_twice():
    never_started = heartbeat.Heartbeat(0.05, Calls())
    never_started.stop()
    never_started.stop()
    with running(heartbeat.Heartbeat(0.05, Calls())) as beat:
        beat.stop()
