"""Trusted probes for 04_event, run in the sandbox beside the student's heartbeat.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. The callback handed to the student's Heartbeat is a
trusted `Recorder`, which counts the beats that started and finished on its own.

A test that needs several calls (start, let the parent wait, stop, look again) keeps the
heartbeat under test in this module's globals: the sandbox runs every call of one test in
the same process, and every test gets a fresh process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings

# Seconds a probe waits for a beat before it reports what it has; well below the call timeout.
PATIENCE = 5.0


class Recorder:
    """The trusted callback handed to the student's Heartbeat: counts beats started and finished.

    `in_the_middle(number)`, when given, runs inside beat `number` (1, 2, ...), between the
    beat being counted as started and as finished, to hold a beat open while a probe looks.
    """

    def __init__(self, in_the_middle: Callable[[int], None] | None = None) -> None:
        self.started = 0
        self.finished = 0
        self._in_the_middle = in_the_middle
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.started += 1
            number = self.started
            self._changed.notify_all()
        if self._in_the_middle is not None:
            self._in_the_middle(number)
        with self._changed:
            self.finished += 1
            self._changed.notify_all()

    def wait_until_started(self, beats: int, timeout: float = PATIENCE) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.started >= beats, timeout)

    def counts(self) -> dict[str, int]:
        with self._changed:
            return {"started": self.started, "finished": self.finished}


def _plain_int(value: Any) -> int | str:
    """The value if it is an int, else a description of what it is instead."""
    return value if type(value) is int else f"a {type(value).__name__}: {value!r:.80}"


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)


# -- one heartbeat across several calls -------------------------------------------------------

_subject: Any = None  # the student's Heartbeat under test
_recorder = Recorder()
_stop_called = threading.Event()


def _snapshot() -> dict[str, Any]:
    counts = _recorder.counts()  # first, so a slow `beats` cannot blur them
    return {**counts, "beats": _plain_int(_subject.beats)}


def start(
    heartbeat: ModuleType, interval: float, wait_for_beats: int = 0, hold_first_beat: float = 0.0
) -> dict[str, Any]:
    """Create a Heartbeat with a Recorder, start it, and return once `wait_for_beats` beats
    have started (or PATIENCE has passed).

    With `hold_first_beat`, the first beat waits until stop() is called and then keeps
    running for that many seconds more: a slow callback that stop() has to wait for.
    """
    global _subject, _recorder

    def slow_first_beat(number: int) -> None:
        if number == 1:
            _stop_called.wait(PATIENCE)
            _pause(hold_first_beat)

    _recorder = Recorder(slow_first_beat if hold_first_beat else None)
    _subject = heartbeat.Heartbeat(interval, _recorder)
    _subject.start()
    _recorder.wait_until_started(wait_for_beats)
    return _snapshot()


def stop(heartbeat: ModuleType) -> dict[str, Any]:
    """Stop the heartbeat started by start(); the counts right after stop() returned."""
    _stop_called.set()
    _subject.stop()
    return _snapshot()


def snapshot(heartbeat: ModuleType) -> dict[str, Any]:
    return _snapshot()


def idle(heartbeat: ModuleType, seconds: float) -> None:
    """Wait `seconds` without using the CPU, while the heartbeat runs on: the grader reads
    how much CPU time the process used meanwhile from the kernel."""
    _pause(seconds)


# -- self-contained probes ----------------------------------------------------------------------


def beats_during_callbacks(heartbeat: ModuleType, interval: float, count: int, hold: float) -> dict[str, Any]:
    """Read `beats` from another thread while each of the first `count` callbacks is running.

    Each of those callbacks waits (up to `hold` seconds) until the read is over, so a read
    sees the callback in progress, unless reading `beats` itself waits for the callback.
    `finished_after` is how many callbacks had finished when the read returned.
    """
    running: queue.Queue[int] = queue.Queue()
    read_done = [threading.Event() for _ in range(count + 1)]

    def wait_for_the_read(number: int) -> None:
        if number <= count:
            running.put(number)
            read_done[number].wait(hold)

    recorder = Recorder(wait_for_the_read)
    subject = heartbeat.Heartbeat(interval, recorder)
    subject.start()
    reads = []
    try:
        for _ in range(count):
            try:
                number = running.get(timeout=PATIENCE)
            except queue.Empty:
                break
            value = _plain_int(subject.beats)
            reads.append({"beat": number, "beats": value, "finished_after": recorder.counts()["finished"]})
            read_done[number].set()
    finally:
        subject.stop()
    return {"reads": reads, "after_stop": {**recorder.counts(), "beats": _plain_int(subject.beats)}}


def misuse(heartbeat: ModuleType, interval: float, steps: list[str]) -> list[dict[str, Any] | None]:
    """Call start() and stop() on one Heartbeat in the order of `steps`; what each call raised."""
    subject = heartbeat.Heartbeat(interval, Recorder())
    outcomes: list[dict[str, Any] | None] = []
    for step in steps:
        try:
            getattr(subject, step)()
        except NotImplementedError:
            raise  # the sandbox reports it as "not implemented yet"
        except Exception as error:  # noqa: BLE001 - what was raised is the data
            outcomes.append({
                "type": type(error).__name__,
                "runtime_error": isinstance(error, RuntimeError),
                "message": str(error)[:200],
            })
        else:
            outcomes.append(None)
    return outcomes


def stops_under_preemption(
    heartbeat: ModuleType, seeds: list[int], pauses: list[float], interval: float, rate: float
) -> list[int]:
    """Per forced schedule: start a heartbeat, pause, stop it; how many callbacks had run.

    The interval is far longer than the pause, so every callback counted came from stop().
    """
    extra_beats = []
    for seed, pause in zip(seeds, pauses):
        recorder = Recorder()
        with forced_interleavings([heartbeat], seed, rate):
            subject = heartbeat.Heartbeat(interval, recorder)
            subject.start()
            _pause(pause)
            subject.stop()
        extra_beats.append(recorder.counts()["started"])
    return extra_beats
