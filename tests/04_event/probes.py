"""Trusted probes for 04_event, run in the sandbox beside the student's heartbeat.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict. The callback handed to the student's Heartbeat is a
trusted `Recorder`'s `beat`, which counts the beats that started and finished on its own.

The student's code shares this interpreter and may replace what it reaches without an audited
operation: the builtins, `threading` and `time`, this module's globals, the attributes of what
it is handed. So every probe takes what it calls as keyword defaults, bound when this module is
imported (before the student's module is), and the callback keeps its counts in its defaults,
which only an audited read reaches (see grader/harness/audit.py).

A test that needs several calls (start, let the parent wait, stop, look again) keeps the
heartbeat under test in a session that only the probes' defaults hold: the sandbox runs every
call of one test in the same process, and every test gets a fresh process.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings

# Seconds a probe waits for a beat before it reports what it has; well below the call timeout.
PATIENCE = 5.0


def _beat_counter(counts: list[int], changed: Any, in_the_middle: Callable[[int], None] | None) -> Callable[[], None]:
    """The callback: counts a beat as started, runs `in_the_middle(number)` if given, counts it as
    finished. It has no closure: its state sits in its defaults."""

    def beat(*, _counts: list[int] = counts, _changed: Any = changed,
             _in_the_middle: Callable[[int], None] | None = in_the_middle) -> None:
        with _changed:
            _counts[0] += 1
            number = _counts[0]
            _changed.notify_all()
        if _in_the_middle is not None:
            _in_the_middle(number)
        with _changed:
            _counts[1] += 1
            _changed.notify_all()

    return beat


class Recorder:
    """Counts the beats of its `beat`, the trusted callback handed to the student's Heartbeat.

    `in_the_middle(number)`, when given, runs inside beat `number` (1, 2, ...), between the
    beat being counted as started and as finished, to hold a beat open while a probe looks.
    The student gets `beat` alone, never this object.
    """

    def __init__(self, in_the_middle: Callable[[int], None] | None = None, *,
                 _condition: type = threading.Condition, _beat_counter: Callable[..., Any] = _beat_counter) -> None:
        self._counts = [0, 0]  # started, finished
        self._changed = _condition()
        self.beat = _beat_counter(self._counts, self._changed, in_the_middle)

    def wait_until_started(self, beats: int, timeout: float = PATIENCE) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._counts[0] >= beats, timeout)

    def counts(self) -> dict[str, int]:
        with self._changed:
            return {"started": self._counts[0], "finished": self._counts[1]}


def _plain_int(value: Any, *, _type: type = type, _int: type = int) -> int | str:
    """The value if it is an int, else a description of what it is instead."""
    return value if _type(value) is _int else f"a {_type(value).__name__}: {value!r:.80}"


# -- one heartbeat across several calls -------------------------------------------------------

# The heartbeat under test, its Recorder, and whether stop() was called. Reachable only through
# the defaults below: the module's name for it is deleted once they are bound.
_SESSION: dict[str, Any] = {"subject": None, "recorder": Recorder(), "stop_called": threading.Event()}


def _snapshot(*, _session: dict[str, Any] = _SESSION, _plain_int: Callable[[Any], Any] = _plain_int) -> dict[str, Any]:
    counts = _session["recorder"].counts()  # first, so a slow `beats` cannot blur them
    return {**counts, "beats": _plain_int(_session["subject"].beats)}


def _hold_first_beat(number: int, hold: float, stop_called: Any, *, _patience: float = PATIENCE,
                     _sleep: Callable[[float], None] = time.sleep) -> None:
    """A slow first beat: it waits until stop() is called, then keeps running `hold` seconds more."""
    if number == 1:
        stop_called.wait(_patience)
        _sleep(hold)


def start(
    heartbeat: ModuleType, interval: float, wait_for_beats: int = 0, hold_first_beat: float = 0.0, *,
    _session: dict[str, Any] = _SESSION, _recorder: type = Recorder, _snapshot: Callable[[], Any] = _snapshot,
    _hold_first_beat: Callable[..., None] = _hold_first_beat, _partial: type = partial,
) -> dict[str, Any]:
    """Create a Heartbeat with a Recorder, start it, and return once `wait_for_beats` beats
    have started (or PATIENCE has passed).

    With `hold_first_beat`, the first beat waits until stop() is called and then keeps
    running for that many seconds more: a slow callback that stop() has to wait for.
    """
    slow_first_beat = _partial(_hold_first_beat, hold=hold_first_beat, stop_called=_session["stop_called"])
    recorder = _session["recorder"] = _recorder(slow_first_beat if hold_first_beat else None)
    subject = _session["subject"] = heartbeat.Heartbeat(interval, recorder.beat)
    subject.start()
    recorder.wait_until_started(wait_for_beats)
    return _snapshot()


def stop(heartbeat: ModuleType, *, _session: dict[str, Any] = _SESSION,
         _snapshot: Callable[[], Any] = _snapshot) -> dict[str, Any]:
    """Stop the heartbeat started by start(); the counts right after stop() returned, and under
    "before_stop" the callback's counts just before stop() was called, which no beat that stop()
    itself causes can reach."""
    before_stop = _session["recorder"].counts()
    _session["stop_called"].set()
    _session["subject"].stop()
    return {**_snapshot(), "before_stop": before_stop}


def snapshot(heartbeat: ModuleType, *, _snapshot: Callable[[], Any] = _snapshot) -> dict[str, Any]:
    return _snapshot()


del _SESSION


def idle(heartbeat: ModuleType, seconds: float, *, _sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait `seconds` without using the CPU, while the heartbeat runs on: the grader reads
    how much CPU time the process used meanwhile from the kernel."""
    _sleep(seconds)


# -- self-contained probes ----------------------------------------------------------------------


def _wait_for_the_read(number: int, count: int, hold: float, running: Any, read_done: list[Any]) -> None:
    """Inside each of the first `count` beats: say which beat runs, wait (up to `hold`) for its read."""
    if number <= count:
        running.put(number)
        read_done[number].wait(hold)


def beats_during_callbacks(
    heartbeat: ModuleType, interval: float, count: int, hold: float, *,
    _recorder: type = Recorder, _wait_for_the_read: Callable[..., None] = _wait_for_the_read, _partial: type = partial,
    _queue: type = queue.Queue, _empty: type = queue.Empty, _event: type = threading.Event, _range: type = range,
    _plain_int: Callable[[Any], Any] = _plain_int, _patience: float = PATIENCE,
) -> dict[str, Any]:
    """Read `beats` from another thread while each of the first `count` callbacks is running.

    Each of those callbacks waits (up to `hold` seconds) until the read is over, so a read
    sees the callback in progress, unless reading `beats` itself waits for the callback.
    `finished_after` is how many callbacks had finished when the read returned.
    """
    running = _queue()
    read_done = [_event() for _ in _range(count + 1)]
    recorder = _recorder(_partial(_wait_for_the_read, count=count, hold=hold, running=running, read_done=read_done))
    subject = heartbeat.Heartbeat(interval, recorder.beat)
    subject.start()
    reads = []
    try:
        for _ in _range(count):
            try:
                number = running.get(timeout=_patience)
            except _empty:
                break
            value = _plain_int(subject.beats)
            reads.append({"beat": number, "beats": value, "finished_after": recorder.counts()["finished"]})
            read_done[number].set()
    finally:
        subject.stop()
    return {"reads": reads, "after_stop": {**recorder.counts(), "beats": _plain_int(subject.beats)}}


def misuse(heartbeat: ModuleType, interval: float, steps: list[str], *, _recorder: type = Recorder,
           _getattr: Callable[..., Any] = getattr, _isinstance: Callable[..., bool] = isinstance,
           _type: type = type, _str: type = str, _runtime_error: type = RuntimeError) -> list[dict[str, Any] | None]:
    """Call start() and stop() on one Heartbeat in the order of `steps`; what each call raised."""
    subject = heartbeat.Heartbeat(interval, _recorder().beat)
    outcomes: list[dict[str, Any] | None] = []
    for step in steps:
        try:
            _getattr(subject, step)()
        except NotImplementedError:
            raise  # the sandbox reports it as "not implemented yet"
        except Exception as error:  # noqa: BLE001 - what was raised is the data
            outcomes.append({
                "type": _type(error).__name__,
                "runtime_error": _isinstance(error, _runtime_error),
                "message": _str(error)[:200],
            })
        else:
            outcomes.append(None)
    return outcomes


def stops_under_preemption(
    heartbeat: ModuleType, seeds: list[int], pauses: list[float], interval: float, rate: float, *,
    _forced: type = forced_interleavings, _recorder: type = Recorder, _sleep: Callable[[float], None] = time.sleep,
    _zip: type = zip, _half_done: tuple[str, ...] = ("half done",),
) -> list[dict[str, Any]]:
    """Per forced schedule: start a heartbeat, pause, stop it; how many callbacks had run
    ("beats"), and the pause that let a thread see stop() half done ("pause", for the story).

    The interval is far longer than the pause, so every callback counted came from stop().
    """
    runs = []
    for seed, pause in _zip(seeds, pauses):
        recorder = _recorder()
        with _forced([heartbeat], seed, rate) as block:
            subject = heartbeat.Heartbeat(interval, recorder.beat)
            subject.start()
            _sleep(pause)
            subject.stop()
        runs.append({"beats": recorder.counts()["started"], "pause": block.telling_pause(_half_done)})
    return runs
