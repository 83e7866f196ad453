"""Diagnoses of exercises/04_event: the mistakes a heartbeat built on threading.Event invites."""

from __future__ import annotations

from collections.abc import Sequence

WAIT_NOT_SLEEP = ("time.sleep() cannot be cut short; wait with Event.wait(interval) instead, which returns"
                  " as soon as stop() sets the event.")


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th: the beats and calls are counted from one."""
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def first_beat_at_once(waited: float, interval: float) -> str:
    """The loop beats first and waits afterwards."""
    return (f"first beat at once: it came {waited:.2f} s after start() was called, but the interval is"
            f" {interval:.2f} s. Wait one interval first, then call the callback.")


def too_many_beats(beats: int, seconds: float, interval: float, most: int) -> str:
    return (f"too many beats: the callback ran {beats} times in {seconds:.2f} s with an interval of"
            f" {interval:.3f} s, at most {most} fit. Beat once per interval, not more often.")


def too_few_beats(beats: int, seconds: float, interval: float, least: int) -> str:
    return (f"too few beats: the callback ran {beats} times in {seconds:.2f} s with an interval of"
            f" {interval:.3f} s; expected about {seconds / interval:.0f} (at least {least}). Each beat"
            " should follow the previous one after one interval.")


def beat_counted_too_early(beats: int, number: int) -> str:
    """`beats` was read while the `number`-th callback was still running."""
    return (f"beat counted too early: beats was {beats} while the {ordinal(number)} callback was still"
            f" running, so only {number - 1} had completed. Add one after callback() returns.")


def beats_miscounted(beats: int, completed: int) -> str:
    return f"after stop() beats was {beats}, but the callback had completed {completed} times"


def stop_not_returned(waited: float, interval: float) -> str:
    """stop() is still running: most often the thread sleeps out its interval."""
    return (f"stop() had not returned {waited:.1f} s after it was called, with an interval of"
            f" {interval:.1f} s. Does it wait out the interval? {WAIT_NOT_SLEEP}")


def callback_running_after_stop(callback: str, started: int, finished: int) -> str:
    """stop() set the event but did not wait for the thread; `callback` is "quick" or "slow"."""
    return (f"the callback was still running when stop() returned (a {callback} callback, {started}"
            f" started, {finished} finished). After setting the event, stop() must wait for the thread"
            " to end: join it.")


def beats_after_stop(extra: int, watched: float) -> str:
    """The thread outlived stop(), typically a daemon thread that nobody stops."""
    return (f"the heartbeat kept beating after stop() returned: {extra} more callbacks in the next"
            f" {watched:.1f} s. stop() must end the thread; a daemon thread only ends with the whole"
            " program.")


def busy_waiting(share: float, seconds: float, allowed: float) -> str:
    return (f"busy waiting: between beats your heartbeat used {share:.0%} of a CPU core for"
            f" {seconds:.1f} s (at most {allowed:.0%} allowed). A loop that keeps checking the clock or a"
            " flag burns a core; block in Event.wait(timeout) instead.")


def start_twice_accepted() -> str:
    return ("start() twice was accepted: the second call should raise RuntimeError (a heartbeat runs one"
            " thread and starts once)")


def call_raised(steps: Sequence[str], index: int, error_type: str, error_message: str) -> str:
    """The `index`-th call of the sequence `steps` (method names) raised."""
    sequence = ", ".join(f"{step}()" for step in steps)
    return (f"in the sequence {sequence}, the {ordinal(index + 1)} call ({steps[index]}()) raised"
            f" {error_type}: {error_message}")


def stop_not_safe(steps: Sequence[str], index: int, error_type: str, error_message: str) -> str:
    """stop() raised when called before start() or a second time, e.g. joining a thread never started."""
    return (f"{call_raised(steps, index, error_type, error_message)}. stop() must be safe to call before"
            " start() and more than once: only wait for a thread that is running.")
