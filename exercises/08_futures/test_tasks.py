"""Quick checks for tasks.py. Run: python -m pytest exercises/08_futures

The hidden grading suite checks the same things more thoroughly: random calls and timings,
every start method of multiprocessing, and more forced schedules.
"""

import concurrent.futures
import os
import threading
import time

import pytest

import tasks
from student_runtime.diagnoses import ex08_futures as diagnose
from student_runtime.preempt import forced_interleavings

SLOW = 3.0  # seconds a slow call takes (unless the test is over before)
# On Python 3.10 concurrent.futures.TimeoutError is not yet the builtin TimeoutError.
TIMEOUT_ERRORS = (TimeoutError, concurrent.futures.TimeoutError)


def returns_after(seconds, value):
    def call():
        time.sleep(seconds)
        return value

    return call


def raises_after(seconds, error):
    def call():
        time.sleep(seconds)
        raise error

    return call


@pytest.fixture
def slow_call():
    """Makes calls that take SLOW seconds, or end as soon as the test is over."""
    test_over = threading.Event()

    def make(value):
        def call():
            test_over.wait(SLOW)
            return value

        return call

    yield make
    test_over.set()


def within(seconds, action):
    """Run action() on a thread of its own and wait at most `seconds` for it: (True, what it
    returned or raised), or (False, None) while it still runs, so that a call that waits for the
    slow calls fails its test at once instead of holding it up until they end."""
    outcome = []

    def run():
        try:
            outcome.append(action())
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    return (True, outcome[0]) if outcome else (False, None)


def error_raised_by(action):
    """The exception action() raised; a stub's NotImplementedError passes through."""
    try:
        result = action()
    except NotImplementedError:
        raise
    except Exception as error:
        return error
    pytest.fail(f"expected an exception, but it returned {result!r}")


def square_and_pid(number):
    """Module-level, so that a process pool can send it to its workers."""
    time.sleep(0.1)
    return number * number, os.getpid()


def test_run_all_keeps_order_and_exceptions_in_place():
    raised, returned = ValueError("raised by calls[1]"), KeyError("returned by calls[3]")
    calls = [
        returns_after(0.3, "slowest"),
        raises_after(0.1, raised),
        returns_after(0.0, 42),
        returns_after(0.1, returned),
    ]
    call = "run_all(<4 calls>, max_workers=4)"
    try:
        results = tasks.run_all(calls, max_workers=4)
    except NotImplementedError:
        raise
    except Exception as error:
        if error is raised:
            raise AssertionError(diagnose.exception_escaped(call, f"raised {error!r}", 1)) from None
        raise
    in_order = ["slowest", raised, 42, returned]
    if results != in_order and sorted(map(repr, results)) == sorted(map(repr, in_order)):
        position = next(i for i, (got, want) in enumerate(zip(results, in_order)) if got != want)
        raise AssertionError(diagnose.results_in_completion_order(call, position, repr(results[position])))
    assert results[0] == "slowest" and results[2] == 42, f"results out of order: {results!r}"
    assert results[1] is raised, f"the exception calls[1] raised belongs at position 1: {results!r}"
    assert results[3] is returned, f"calls[3] returned an exception object, for position 3: {results!r}"


def test_run_all_respects_max_workers():
    lock, running, peak = threading.Lock(), 0, 0

    def call():
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1

    tasks.run_all([call] * 7, max_workers=3)
    assert peak <= 3, diagnose.too_many_at_once("run_all(<7 calls>, max_workers=3)", peak, 3)
    assert peak == 3, diagnose.too_few_at_once("run_all(<7 calls>, max_workers=3)", peak)


@pytest.mark.timing
def test_first_success_does_not_wait_for_slow_calls(slow_call):
    calls = [slow_call("slow"), returns_after(0.1, "fast"), slow_call("slow too")]
    finished, result = within(1.0, lambda: tasks.first_success(calls, timeout=10))
    assert finished, diagnose.waited_for_slow_calls(1.0, 1, 0.1, 2, SLOW)
    if isinstance(result, BaseException):
        raise result
    assert result == "fast"


def test_first_success_skips_failed_calls(slow_call):
    calls = [raises_after(0.0, ValueError("fails at once")), returns_after(0.2, "ok"), slow_call("slow")]
    assert tasks.first_success(calls, timeout=10) == "ok"


@pytest.mark.timing
def test_first_success_raises_timeout_error(slow_call):
    calls = [slow_call("too late"), raises_after(0.0, ValueError("fails at once"))]
    finished, result = within(1.3, lambda: tasks.first_success(calls, timeout=0.3))
    assert finished, (f"no TimeoutError 1.3 s after first_success(..., timeout=0.3): it waited for the slow"
                      f" calls. {diagnose.SHUT_DOWN_WITHOUT_WAITING}")
    if isinstance(result, NotImplementedError):
        raise result
    outcome = f"raised {result!r}" if isinstance(result, BaseException) else f"returned {result!r}"
    assert isinstance(result, TIMEOUT_ERRORS), diagnose.no_timeout_error(outcome, 0.3)


def test_first_success_reraises_the_last_failure():
    last = LookupError("fails last, after 0.4 s")
    first, second = ValueError("fails first"), OSError("fails second")
    calls = [raises_after(0.1, first), raises_after(0.4, last), raises_after(0.2, second)]
    error = error_raised_by(lambda: tasks.first_success(calls, timeout=10))
    story = f"every call failed, the last one was calls[1], which raised {last!r} after 0.40 s"
    assert error is not first, diagnose.first_failure_reraised(f"raised {error!r}", 0, 0.1, story)
    assert error is last, f"expected the last failure {last!r}, got {error!r}"


def test_first_success_when_all_fail_at_once(schedules):
    # All five calls raise at the same moment; forced thread switches expose unlocked bookkeeping.
    for seed in schedules.seeds(3):
        barrier = threading.Barrier(5, timeout=0.5)
        errors = [ValueError(f"call {i} failed") for i in range(5)]

        def fails_with_the_others(error):
            def call():
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass  # fewer than 5 calls could run at once: fail anyway
                raise error

            return call

        calls = [fails_with_the_others(error) for error in errors]
        with forced_interleavings([tasks], seed, rate=0.3) as block:
            error = error_raised_by(lambda: tasks.first_success(calls, timeout=1.5))
        if error in errors:
            continue
        barrier = threading.Barrier(5, timeout=0.5)  # again, with no switch forced
        again = error_raised_by(lambda: tasks.first_success(calls, timeout=1.5)) not in errors
        raise AssertionError(schedules.failure(
            f"all 5 calls failed at once, yet first_success raised {error!r}: it lost count of"
            " the calls that had ended.", block, without_switches=again))


def wait_for_other_threads_to_end(patience=2.0):
    """Threads of earlier tests may still be winding down; forking a process that has other
    threads is deprecated (it can deadlock the child), and fork is Linux's default start method."""
    deadline = time.monotonic() + patience
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_map_processes_uses_worker_processes_and_keeps_order():
    wait_for_other_threads_to_end()
    numbers = list(range(8))
    call = "map_processes(square_and_pid, <8 items>, max_workers=3)"
    try:
        results = tasks.map_processes(square_and_pid, numbers, max_workers=3)
    except NotImplementedError:
        raise
    except Exception as error:
        if "pickl" in f"{type(error).__name__} {error}".lower():
            raise AssertionError(diagnose.not_picklable(call, f"raised {error!r}")) from None
        raise
    assert [square for square, _ in results] == [n * n for n in numbers], f"wrong or out of order: {results}"
    pids = {pid for _, pid in results}
    assert pids != {os.getpid()}, diagnose.ran_in_calling_process(call)
    assert os.getpid() not in pids, "items ran in the calling process: use a ProcessPoolExecutor"
    assert len(pids) > 1, "every item ran in one worker process; expected several"
