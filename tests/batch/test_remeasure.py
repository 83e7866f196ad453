"""An exercise whose timing check could not measure is graded again, alone (runner.measured_again).

The suites are faked: each fake run returns a report built by scoring.build_report, so these
tests say what the grader does with an unmeasured group, not how a timing check decides.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.batch import run
from grader.batch.discover import Submission
from grader.batch.results import feedback_markdown
from grader.manifest import Exercise
from grader.runner import EXTRA_MEASUREMENTS, SuiteRun, measured_again
from grader.scoring import TestOutcome, build_report

PRIMES = Exercise(id="06_primes", module="primes", title="Primes", time_limit=10,
                  points={"correctness": 4, "speedup": 6}, hints=("Use a process pool.",))
BANK = Exercise(id="02_lock", module="bank", title="Bank", time_limit=10, points={"conservation": 5}, hints=())
BUSY = "the machine is too busy to measure a speedup"


def suite_run(speedup: str, bank: str | None = None) -> SuiteRun:
    """A run of 06 whose speedup check did `speedup` ("pass", "fail" or "skip"), and of 02 if `bank`."""
    outcomes = [TestOutcome(PRIMES.id, "correctness", "test_primes", "pass"),
                TestOutcome(PRIMES.id, "speedup", "test_speedup", speedup, BUSY if speedup == "skip" else "")]
    if bank is not None:
        outcomes.append(TestOutcome(BANK.id, "conservation", "test_total", bank))
    return SuiteRun(build_report([BANK, PRIMES], outcomes), 0, "")


class FakeSuites:
    """Hands out the given runs of one exercise in turn, recording which exercises were run."""

    def __init__(self, *runs: SuiteRun, check: Callable[[], None] = lambda: None) -> None:
        self.runs: Iterator[SuiteRun] = iter(runs)
        self.ran: list[str] = []
        self.check = check

    def __call__(self, exercise: Exercise) -> SuiteRun:
        self.ran.append(exercise.id)
        self.check()
        return next(self.runs)


def primes_entry(result: SuiteRun) -> dict[str, Any]:
    return next(entry for entry in result.report["exercises"] if entry["id"] == PRIMES.id)


def statuses(entry: dict[str, Any]) -> dict[str, str]:
    return {group["name"]: group["status"] for group in entry["groups"]}


@pytest.mark.parametrize(("again", "status", "points"), [("pass", "earned", 10), ("fail", "failed", 4)])
def test_an_unmeasured_group_is_replaced_by_the_next_measured_run(again, status, points):
    suites = FakeSuites(suite_run("skip"), suite_run(again))
    result = measured_again(suite_run("skip"), [PRIMES], suites, None)
    entry = primes_entry(result)
    assert suites.ran == [PRIMES.id, PRIMES.id]  # the second run measured: no third
    assert statuses(entry) == {"correctness": "earned", "speedup": status}
    assert (entry["points"], result.report["points"]) == (points, points)
    assert (entry["measurements"], entry["measured_again"]) == (3, f"measured again: {BUSY}")


def test_a_measured_failure_stands_and_is_not_measured_again():
    suites = FakeSuites(suite_run("fail"), suite_run("pass"))
    entry = primes_entry(measured_again(suite_run("skip"), [PRIMES], suites, None))
    assert suites.ran == [PRIMES.id]
    assert statuses(entry)["speedup"] == "failed" and entry["measurements"] == 2


def test_never_more_than_two_extra_runs_and_the_last_report_stands():
    suites = FakeSuites(*[suite_run("skip")] * 5)
    entry = primes_entry(measured_again(suite_run("skip"), [PRIMES], suites, None))
    assert len(suites.ran) == EXTRA_MEASUREMENTS == 2
    assert statuses(entry)["speedup"] == "not measured" and entry["points"] == 4
    assert entry["measurements"] == 3 and "ask for a regrade" in entry["groups"][1]["note"]


def test_a_run_with_every_group_measured_is_never_run_again():
    suites = FakeSuites()
    result = measured_again(suite_run("fail", bank="pass"), [BANK, PRIMES], suites, None)
    assert suites.ran == []
    assert [(e["measurements"], e["measured_again"]) for e in result.report["exercises"]] == [(1, "")] * 2


def test_only_the_unmeasured_exercise_is_run_again():
    suites = FakeSuites(suite_run("pass"))
    first = suite_run("skip", bank="fail")
    result = measured_again(first, [BANK, PRIMES], suites, None)
    bank = result.report["exercises"][0]
    assert suites.ran == [PRIMES.id]
    assert bank == {**first.report["exercises"][0], "measurements": 1, "measured_again": ""}
    assert primes_entry(result)["points"] == 10 and result.report["points"] == 10


def test_a_run_again_that_gives_no_result_leaves_the_last_report():
    def hangs(exercise: Exercise) -> SuiteRun:
        raise RuntimeError("the grading run took longer than 60 s and was stopped")

    entry = primes_entry(measured_again(suite_run("skip"), [PRIMES], hangs, None))
    assert statuses(entry)["speedup"] == "not measured" and entry["measurements"] == 2
    assert entry["measured_again"].endswith("measuring it again failed: the grading run took longer than 60 s"
                                            " and was stopped")


def test_the_timing_lock_is_held_exclusively_during_each_run_again(tmp_path):
    fcntl = pytest.importorskip("fcntl", reason="the timing lock uses POSIX file locks")
    lock = tmp_path / "timing.lock"

    def shared_is_refused() -> None:
        descriptor = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(descriptor)

    suites = FakeSuites(suite_run("skip"), suite_run("pass"), check=shared_is_refused)
    measured_again(suite_run("skip"), [PRIMES], suites, lock)
    assert suites.ran == [PRIMES.id, PRIMES.id]
    descriptor = os.open(lock, os.O_RDWR)  # and released afterwards
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)


def test_results_json_and_feedback_say_how_many_measurements(tmp_path, monkeypatch):
    """The batch grader measures again under the lock it holds, and the student's files say so."""
    pytest.importorskip("fcntl", reason="the timing lock uses POSIX file locks")
    student = tmp_path / "class" / "ada"
    (student / "exercises" / PRIMES.id).mkdir(parents=True)
    (student / "exercises" / PRIMES.id / "primes.py").write_text("", encoding="utf-8")
    runs = iter([suite_run("skip"), suite_run("skip"), suite_run("pass")])
    calls: list[list[str]] = []

    def fake_suites(exercises, submission=None, *, extra_args=(), **options) -> SuiteRun:
        calls.append(list(extra_args))
        return next(runs)

    monkeypatch.setattr(run, "run_hidden_suites", fake_suites)
    lock = tmp_path / "timing.lock"
    grading = run.ClassGrading([PRIMES], tmp_path / "out", timing_lock=lock)
    grading.expected, grading.kit = suite_run("pass").report, "kit"
    graded = grading.grade(Submission("ada", student))
    assert graded.state == "graded" and graded.results["points"] == 10
    assert calls == [["--timing-lock", str(lock)], [], []]  # a run again never takes the lock it runs under
    written = json.loads((tmp_path / "out" / "ada" / "results.json").read_text(encoding="utf-8"))
    [entry] = written["exercises"]
    assert (entry["measurements"], entry["measured_again"]) == (3, f"measured again: {BUSY}")
    assert graded.measured_again == [f"ada 06_primes: 3 measurements (measured again: {BUSY})"]
    feedback = (tmp_path / "out" / "ada" / "feedback.md").read_text(encoding="utf-8")
    assert f"Measured 3 times: a timing check could not measure ({BUSY})" in feedback
    assert feedback == feedback_markdown(written, [PRIMES])


def test_the_benchmarks_stability_table_grades_as_the_batch_grader_does(tmp_path, monkeypatch):
    """bench's gradings measure again too, on the same copy of the candidate's file."""
    from grader.cli import bench

    runs = iter([suite_run("skip"), suite_run("fail")])
    submissions: list[Path | None] = []

    def fake_suites(exercises, submission=None, **options) -> SuiteRun:
        submissions.append(submission)
        return next(runs)

    monkeypatch.setattr(bench, "run_hidden_suites", fake_suites)
    monkeypatch.setattr(bench, "TIMING_LOCK", tmp_path / "timing.lock")  # not the machine's own
    mutant = tmp_path / "primes_mutant.py"
    mutant.write_text("", encoding="utf-8")
    graded = bench._graded(PRIMES, mutant)
    assert len(submissions) == 2 and submissions[0] is not None and submissions[0] == submissions[1]
    assert primes_entry(graded)["measurements"] == 2 and primes_entry(graded)["points"] == 4
