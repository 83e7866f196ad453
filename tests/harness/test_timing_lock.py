"""The machine-wide timing lock: a timing test runs while no other test of any grading run does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

fcntl = pytest.importorskip("fcntl", reason="the timing lock uses POSIX file locks")

from grader.harness.timing_lock import TimingLock  # noqa: E402

HOLDER = """
import sys, time
from pathlib import Path
from grader.harness.timing_lock import TimingLock
with TimingLock(Path(sys.argv[1])).hold(exclusive=sys.argv[2] == "exclusive"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def hold_in_another_process(path: Path, kind: str, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), kind, str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def seconds_to_hold(lock: TimingLock, exclusive: bool) -> float:
    started = time.monotonic()
    with lock.hold(exclusive=exclusive):
        return time.monotonic() - started


@pytest.mark.parametrize("other, mine", [("shared", True), ("exclusive", False), ("exclusive", True)])
def test_an_exclusive_hold_excludes_every_other(tmp_path, other, mine):
    lock = TimingLock(tmp_path / "timing.lock")
    holder = hold_in_another_process(lock.path, other, 0.5)
    waited = seconds_to_hold(lock, exclusive=mine)
    holder.wait(timeout=10)
    assert waited >= 0.3, f"a {'timing' if mine else 'plain'} test started beside a {other} hold"


def test_shared_holds_run_side_by_side(tmp_path):
    lock = TimingLock(tmp_path / "timing.lock")
    holder = hold_in_another_process(lock.path, "shared", 2.0)
    try:
        assert seconds_to_hold(lock, exclusive=False) < 1.0
    finally:
        holder.wait(timeout=10)


def test_a_waiting_timing_test_goes_before_new_plain_tests(tmp_path):
    """Writer priority: once a timing test waits, a plain test that arrives later waits behind it."""
    lock = TimingLock(tmp_path / "timing.lock")
    first = hold_in_another_process(lock.path, "shared", 0.6)
    timing = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock.path), "exclusive", "0.6"],
                              stdout=subprocess.PIPE, text=True)
    wait_until_queued(lock, timing)
    waited = seconds_to_hold(lock, exclusive=False)
    first.wait(timeout=10)
    assert timing.stdout.readline() == "held\n"  # it ran, and it ran first:
    timing.wait(timeout=10)
    assert waited >= 0.5, f"a plain test overtook the waiting timing test (waited {waited:.2f} s)"


def wait_until_queued(lock: TimingLock, waiter: subprocess.Popen[str]) -> None:
    """Until the waiting timing test holds the turnstile (it keeps it while it waits)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and waiter.poll() is None:
        descriptor = os.open(lock.turnstile, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        finally:
            os.close(descriptor)
        time.sleep(0.01)
    pytest.fail("the timing test never queued for the lock")
