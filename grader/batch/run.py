"""Grade a class: each student's staged files through the hidden suites, several at a time.

Each student is graded by a fresh pytest process of the instructor's own suites, given only a
private copy of the student's files. Students are graded in parallel (`jobs`); every test of
every run holds the machine-wide timing lock shared, and a test marked `timing` holds it alone,
so no speedup or latency is measured beside other grading work. An exercise whose timing
check found the machine too busy is graded again alone (runner.measured_again), so the same
files get the same points. Nothing a student does can stop the class: a run that hangs is
killed, a run with no report scores 0 with the reason.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.discover import Submission
from grader.batch.results import complete_report, feedback_markdown, grades_csv, results_document
from grader.batch.stage import Staged, collect, kit_fingerprint
from grader.batch.visible import VisibleTests
from grader.manifest import KIT_ROOT, Exercise, kit_version
from grader.runner import measured_again, run_hidden_suites

RESULTS_FILE, FEEDBACK_FILE, GRADESCOPE_FILE = "results.json", "feedback.md", "gradescope.json"
GRADES_FILE = "grades.csv"
# Machine-wide, so that two graders started on one machine keep each other's timing checks quiet.
TIMING_LOCK = Path(tempfile.gettempdir()) / "concurrency-kit-timing.lock"
# A run longer than this is the grader's failure: every test waiting out its whole deadline
# (twice the manifest's time limit, pytest-timeout's backstop) plus a sandbox start and stop.
RUN_SECONDS_PER_TEST_BEYOND_ITS_DEADLINE = 45


@dataclass(frozen=True)
class Graded:
    """What grading one student gave: its results document and how it went."""

    results: dict[str, Any]
    state: str  # "graded", "unchanged" (the earlier grade stands) or "grader failure"

    @property
    def flags(self) -> list[str]:
        return [f"{self.results['student']} {e['id']}: {e['integrity']['status']}"
                for e in self.results["exercises"] if e["integrity"]["status"] != "clean"]

    @property
    def measured_again(self) -> list[str]:
        """One line per exercise graded more than once, for the class summary."""
        return [f"{self.results['student']} {e['id']}: {e['measurements']} measurements ({e['measured_again']})"
                for e in self.results["exercises"] if e.get("measurements", 1) > 1]


@dataclass
class ClassGrading:
    """The settings of one class run; `grade()` grades one student with them."""

    exercises: Sequence[Exercise]
    out: Path
    force: bool = False
    gradescope: bool = False
    timing_lock: Path | None = TIMING_LOCK if os.name == "posix" else None
    visible: VisibleTests | None = None  # grade on these visible tests instead of the hidden suites
    expected: dict[str, Any] = field(default_factory=dict)
    kit: str = ""

    def prepare(self) -> None:
        """Collect the instructor's suites once: the tests every student's run must report."""
        if self.visible is not None:
            self.expected = self.visible.expected_report()
        else:
            self.expected = run_hidden_suites(self.exercises, extra_args=["--collect-only"]).report
        self.kit = kit_fingerprint(self.exercises) + ":" + ",".join(e.id for e in self.exercises) + \
            (":visible" if self.visible else "")

    def grade(self, submission: Submission) -> Graded:
        """Grade one student; whatever goes wrong, the class goes on and this student gets a
        row of zeros that names the failure."""
        started = time.perf_counter()
        try:
            return self._grade(submission, started)
        except Exception as error:  # noqa: BLE001 - a bug of the grader must not stop the class
            problem = f"the grader failed on this submission and gave it 0; regrade it: {error!r}"
            results = self._results(submission, Staged(), None, "", problem, started)
            return Graded(results, "grader failure")

    def _grade(self, submission: Submission, started: float) -> Graded:
        folder = self.out / submission.student
        try:
            staged = collect(submission, self.exercises)
        except OSError as error:  # the grader could not read the folder: a zero, and the reason
            staged = Staged(problems={e.id: f"the submission cannot be read ({error})" for e in self.exercises})
        fingerprint = staged.fingerprint(self.kit)
        earlier = _read_json(folder / RESULTS_FILE)
        if not self.force and earlier is not None and earlier.get("fingerprint") == fingerprint:
            return Graded(earlier, "unchanged")
        actual, problem = self._run(staged, submission)
        if problem:  # a failure of the grader is never kept as the grade of these files
            fingerprint = ""
        results = self._results(submission, staged, actual, fingerprint,
                                problem or _no_files_problem(staged, self.exercises), started)
        return Graded(results, "grader failure" if problem else "graded")

    def _results(self, submission: Submission, staged: Staged, actual: dict[str, Any] | None,
                 fingerprint: str, problem: str, started: float) -> dict[str, Any]:
        """The student's results document, written to OUT/<student>/."""
        not_graded = staged.problems or {e.id: problem for e in self.exercises if e.id not in staged.files}
        results = results_document(
            complete_report(self.expected, actual, not_graded),
            student=submission.student,
            submission=str(submission.path.resolve()),
            commit=staged.commit,
            graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            kit_version=kit_version(),
            python=platform.python_version(),
            fingerprint=fingerprint,
            duration=round(time.perf_counter() - started, 1),
            problem=problem,
        )
        self._write(self.out / submission.student, results)
        return results

    def _run(self, staged: Staged, submission: Submission) -> tuple[dict[str, Any] | None, str]:
        present = [exercise for exercise in self.exercises if exercise.id in staged.files]
        if not present:
            return None, ""
        with tempfile.TemporaryDirectory(prefix="kit-student-") as scratch:
            if self.visible is not None:
                try:
                    return self.visible.grade(staged, present, Path(scratch)), ""
                except (RuntimeError, OSError, ValueError) as error:
                    return None, f"the grader failed on this submission and gave it 0; regrade it: {error}"
            stage = staged.write(present, Path(scratch) / "submission")
            lock = ["--timing-lock", str(self.timing_lock)] if self.timing_lock else []
            try:
                run = run_hidden_suites(present, stage, extra_args=lock, timeout=self._longest_run(present))
            except RuntimeError as error:
                return None, f"the grader failed on this submission and gave it 0; regrade it: {error}"
            run = measured_again(run, present, lambda exercise: run_hidden_suites(
                [exercise], stage, timeout=self._longest_run([exercise])), self.timing_lock)
            # Replay commands name the private copy; the student knows their own repository.
            text = json.dumps(run.report)
            for staged_path in (os.path.relpath(stage, KIT_ROOT), str(stage)):
                text = text.replace(json.dumps(staged_path)[1:-1], json.dumps(str(submission.path))[1:-1])
            return json.loads(text), ""

    def _longest_run(self, exercises: Sequence[Exercise]) -> float:
        tests = {exercise["id"]: sum(len(group["tests"]) for group in exercise["groups"])
                 for exercise in self.expected["exercises"]}
        return sum(tests[e.id] * (2 * e.time_limit + RUN_SECONDS_PER_TEST_BEYOND_ITS_DEADLINE) for e in exercises)

    def _write(self, folder: Path, results: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        _write_text(folder / RESULTS_FILE, json.dumps(results, indent=2) + "\n")
        _write_text(folder / FEEDBACK_FILE, feedback_markdown(results, self.exercises))
        if self.gradescope:
            from grader.batch.gradescope import gradescope_results

            _write_text(folder / GRADESCOPE_FILE, json.dumps(gradescope_results(results), indent=2) + "\n")


def grade_class(grading: ClassGrading, submissions: Sequence[Submission], jobs: int,
                on_graded: Callable[[Graded], None]) -> list[Graded]:
    """Grade every submission, `jobs` at a time, calling on_graded as each one finishes, then
    write grades.csv for the students graded here. Results come back sorted by student."""
    grading.prepare()
    done = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in as_completed([pool.submit(grading.grade, s) for s in submissions]):
            done.append(future.result())
            on_graded(done[-1])
    done.sort(key=lambda graded: graded.results["student"])
    write_grades(grading.out, [graded.results for graded in done], [e.id for e in grading.exercises])
    return done


def write_grades(out: Path, results: Sequence[dict[str, Any]], exercise_ids: Sequence[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / GRADES_FILE, grades_csv(results, exercise_ids))


def read_results(out: Path) -> list[dict[str, Any]]:
    """Every student's results.json under `out`, sorted by student."""
    found = [_read_json(path) for path in sorted(out.glob(f"*/{RESULTS_FILE}"))]
    return [document for document in found if document is not None]


def _no_files_problem(staged: Staged, exercises: Sequence[Exercise]) -> str:
    if staged.files:
        return ""
    reasons = sorted(set(staged.problems.values()))
    return f"nothing to grade: {reasons[0] if len(reasons) == 1 else 'no exercise file found'}"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file, so an interrupted grader never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)

