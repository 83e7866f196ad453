"""Speedup verdicts: relative to the reference measured in the same rounds; CPU time read by
the kernel for whole process trees; candidates kept from disturbing each other."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from grader.harness.timing import (
    MIN_MEASURABLE_SPEEDUP,
    Speedup,
    best_speedups,
    cpu_of_tree_between,
    frozen,
    judge_speedup,
    process_tree,
    restore_affinity,
    uncounted_children,
    usable_cores,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and CPU clocks of other processes are Linux's")


def test_best_speedups_keeps_the_fastest_of_each_side_and_interleaves():
    calls = []

    def measurement(name, sequential, parallel):
        rounds = iter(zip(sequential, parallel))  # each candidate's own times, round after round

        def measure():
            calls.append(name)
            return Speedup(*next(rounds))
        return measure

    result = best_speedups({
        # a's fastest sequential and fastest parallel times come from different rounds
        "a": measurement("a", [3.0, 1.5, 2.0], [1.0, 2.0, 0.5]),
        "b": measurement("b", [4.0, 5.0, 6.0], [4.0, 2.5, 3.0]),
    }, rounds=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]  # the order rotates every round
    assert result == {"a": Speedup(1.5, 0.5, rounds=3), "b": Speedup(4.0, 2.5, rounds=3)}
    assert result["a"].ratio == 3.0 and result["b"].ratio == 1.6


def test_best_speedups_stops_once_settled():
    times = iter([(3.0, 2.0), (3.0, 1.0), (3.0, 0.1)])
    seen = []

    def settled(best):
        seen.append(best["a"].rounds)
        return best["a"].ratio >= 3.0

    result = best_speedups({"a": lambda: Speedup(*next(times))}, rounds=3, settled=settled)
    assert (result["a"], seen) == (Speedup(3.0, 1.0, rounds=2), [1, 2])  # the third round never ran


@pytest.mark.parametrize(("student", "reference", "passed"), [
    (1.9, 1.9, True),
    (1.5, 1.9, True),   # 1 + 0.5 * 0.9 = 1.45
    (1.4, 1.9, False),
    (1.0, 1.9, False),  # a thread pool: no gain at all
    (1.2, 1.35, True),  # a loaded machine lowers the bar with the reference
])
def test_the_bar_follows_the_reference(student, reference, passed):
    verdict = judge_speedup(Speedup(student, 1.0), Speedup(reference, 1.0), cores=2)
    assert verdict.measurable and verdict.passed is passed
    assert f"{student:.2f}x" in verdict.explanation


def test_a_machine_too_busy_to_measure_is_not_a_verdict():
    verdict = judge_speedup(Speedup(1.0, 1.0), Speedup(MIN_MEASURABLE_SPEEDUP - 0.1, 1.0), cores=2)
    assert not verdict.measurable and "too busy" in verdict.explanation


def test_usable_cores_is_at_least_one():
    assert usable_cores() >= 1


# -- process trees --------------------------------------------------------------------------------

BURN = """
import time
def burn(seconds):
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass
"""


@pytest.fixture
def python_child() -> Iterator:
    """Factory: a Python child process running `code`, with stdin and stdout as pipes."""
    started = []

    def start(code: str) -> subprocess.Popen:
        # A process group of its own, as a sandbox has, so that frozen() can stop it whole.
        group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
        child = subprocess.Popen([sys.executable, "-c", BURN + textwrap.dedent(code)], text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, **group)
        started.append(child)
        return child

    yield start
    for child in started:
        # The whole group: forked burners left running would skew the speedup checks that follow.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()


@linux_only
def test_cpu_of_tree_between_counts_every_process_and_not_sleep(python_child):
    child = python_child("""
        import multiprocessing, os, sys, time
        sys.stdin.readline()
        burn(0.2)  # the root's own work
        fork = multiprocessing.get_context("fork")
        ended = fork.Process(target=burn, args=(0.2,))
        ended.start()
        ended.join()
        fork.Process(target=time.sleep, args=(0.3,)).start()  # waits: no CPU
        burned, spinning = fork.Pipe(duplex=False)
        fork.Process(target=lambda: burn(0.2) or spinning.send(1) or time.sleep(60)).start()
        burned.recv()  # still running, once its 0.2 s of work are done
        print("done", flush=True)
        sys.stdin.readline()
    """)
    before = process_tree(child.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline() == "done\n"
    after = process_tree(child.pid)
    used = cpu_of_tree_between(before, after)
    # 0.6 s of work, give or take /proc's ticks (1/100 s for utime and stime of each process)
    # and the forks' own start-up
    assert 0.5 <= used <= 0.8, f"0.6 CPU seconds of three processes measured as {used:.2f} s"


@linux_only
def test_a_process_that_ignores_sigchld_makes_its_childrens_cpu_uncounted(python_child):
    """Its children are reaped by the kernel with their CPU time credited to nobody: the
    readings name it, and a process that reaps as usual is not named."""
    usual = python_child("import sys; sys.stdin.readline()")
    ignoring = python_child("""
        import signal, sys
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        print("ready", flush=True)
        sys.stdin.readline()
    """)
    assert ignoring.stdout.readline().strip() == "ready"
    usual_tree, ignoring_tree = process_tree(usual.pid), process_tree(ignoring.pid)
    assert usual_tree.unwaited == () and uncounted_children(usual_tree) is None
    assert ignoring_tree.unwaited == (ignoring.pid,)
    assert "ignored SIGCHLD" in uncounted_children(usual_tree, ignoring_tree)


def test_process_tree_of_a_process_that_is_gone_is_none():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_tree(child.pid) is None


@linux_only
def test_a_frozen_tree_uses_no_cpu_until_it_thaws(python_child):
    child = python_child("""
        import multiprocessing
        multiprocessing.get_context("fork").Process(target=burn, args=(60,)).start()
        print("spinning", flush=True)
        burn(60)
    """)
    assert child.stdout.readline() == "spinning\n"
    time.sleep(0.1)
    assert len(process_tree(child.pid).pids) == 2
    with frozen(child.pid):
        time.sleep(0.05)  # the stop signal takes effect at the next scheduling point
        at_stop = own_cpu(child.pid)
        time.sleep(0.3)
        assert own_cpu(child.pid) == at_stop
    thawed = time.monotonic() + 5  # on a busy machine a thawed process may wait for a core
    while not ran_again(child.pid, at_stop) and time.monotonic() < thawed:
        time.sleep(0.05)
    assert ran_again(child.pid, at_stop), "the processes did not run again"


def own_cpu(root: int) -> dict[int, float]:
    """The CPU seconds of each process of the tree, by pid."""
    return {pid: times.own for (pid, _), times in process_tree(root).processes.items()}


def ran_again(root: int, earlier: dict[int, float]) -> bool:
    now = own_cpu(root)
    return all(now.get(pid, 0.0) > used for pid, used in earlier.items())


@linux_only
@pytest.mark.skipif(usable_cores() < 2, reason="needs two cores to confine a process to fewer")
def test_restore_affinity_undoes_a_confinement_to_one_core(python_child):
    child = python_child("""
        import os, threading
        threading.Thread(target=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}) or burn(60)).start()
        print("pinned", flush=True)
        burn(60)
    """)
    assert child.stdout.readline() == "pinned\n"
    narrowed = restore_affinity(child.pid)
    assert len(narrowed) == 1 and narrowed[0] != child.pid  # the thread that pinned itself
    assert os.sched_getaffinity(narrowed[0]) == os.sched_getaffinity(0)
    assert restore_affinity(child.pid) == []
