"""Run hidden suites in a fresh pytest process and read back the points they earned.

The grader, the benchmark and the kit's self-check all grade this way: a separate pytest
process per run, so nothing one submission does can leak into the next, and the verdict is
read from the JSON report the plugin writes, never from pytest's console output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.manifest import KIT_ROOT, Exercise
from student_runtime.processes import NEW_SESSION, stop_session


@dataclass(frozen=True)
class SuiteRun:
    report: dict[str, Any]
    exit_code: int
    output: str

    def failed_tests(self) -> list[str]:
        return [
            test["name"]
            for exercise in self.report["exercises"]
            for group in exercise["groups"]
            for test in group["tests"]
            if test["status"] != "pass"
        ]


def run_hidden_suites(
    exercises: Sequence[Exercise],
    submission: Path | None = None,
    *,
    select: str | None = None,
    node_ids: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    timeout: float | None = None,
) -> SuiteRun:
    """Run the hidden suites of `exercises` against a submission (None: the reference).

    `node_ids` (relative to the kit root, e.g. "tests/01_race_condition/test_x.py::test_y")
    runs exactly those tests instead of whole suites; `select` narrows the run to tests whose
    names match a pytest -k expression. A run longer than `timeout` seconds is killed with
    everything it started, and raises RuntimeError like a run that wrote no report.
    """
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--rootdir", str(KIT_ROOT), "-c", str(KIT_ROOT / "pyproject.toml"),
            "--report-json", str(report_path),
            *(node_ids or [str(exercise.hidden_suite_dir) for exercise in exercises]),
        ]
        if submission is not None:
            command += ["--submission", str(submission)]
        if select:
            command += ["-k", select]
        command += list(extra_args)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=KIT_ROOT, start_new_session=NEW_SESSION)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_session(process)
            raise RuntimeError(f"the grading run took longer than {timeout:.0f} s and was stopped") from None
        if not report_path.exists():
            raise RuntimeError(f"pytest wrote no report (exit code {process.returncode}):\n{output[-6000:]}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return SuiteRun(report, process.returncode, output)


# Measurements of an exercise after the first, when a timing check could not measure.
EXTRA_MEASUREMENTS = 2
NOT_MEASURED = "not measured"


def measured_again(
    first: SuiteRun,
    exercises: Sequence[Exercise],
    run_alone: Callable[[Exercise], SuiteRun],
    timing_lock: Path | None,
    extra: int = EXTRA_MEASUREMENTS,
) -> SuiteRun:
    """`first`, with each exercise that has a group "not measured" graded again, alone.

    A timing check skips when the machine is too busy to measure; grading is then measured
    again rather than left for an instructor to notice, so the same files get the same points.
    Each try is `run_alone(exercise)`: a fresh run of that exercise's hidden suite, which must
    not take `timing_lock` itself, since it is held here exclusively for the whole run, so no
    test of any other grading run overlaps it. The first try with no group "not measured"
    replaces the exercise's entry, whatever it earned (a failure that was measured stands);
    after `extra` unmeasured tries, or a try that wrote no result, the last entry stands.

    Each exercise's entry gains "measurements" (how many runs graded it) and "measured_again"
    ("measured again: " and the reasons the first run gave, "" when one run was enough).
    """
    report = json.loads(json.dumps(first.report))
    for entry in report["exercises"]:
        entry.update(measurements=1, measured_again="")
    outputs = [first.output]
    for index, entry in enumerate(report["exercises"]):
        exercise = next((e for e in exercises if e.id == entry["id"]), None)
        why = _not_measured_because(entry)
        if exercise is None or not why:
            continue
        measurements = 1
        while _not_measured_because(entry) and measurements <= extra:
            measurements += 1
            again = _alone(exercise, run_alone, timing_lock)
            if isinstance(again, str):
                why += f"; measuring it again failed: {again}"
                break
            outputs.append(again.output)
            entry = next(e for e in again.report["exercises"] if e["id"] == exercise.id)
        entry.update(measurements=measurements, measured_again=f"measured again: {why}")
        report["exercises"][index] = entry
    report["points"] = sum(entry["points"] for entry in report["exercises"])
    return replace(first, report=report, output="\n".join(outputs))


def _alone(exercise: Exercise, run_alone: Callable[[Exercise], SuiteRun],
           timing_lock: Path | None) -> SuiteRun | str:
    """A run of one exercise with the timing lock held exclusively, or why it gave no result."""
    with ExitStack() as held:
        if timing_lock is not None:
            from grader.harness.timing_lock import TimingLock  # POSIX only: imported where it is used

            held.enter_context(TimingLock(timing_lock).hold(exclusive=True))
        try:
            run = run_alone(exercise)
        except RuntimeError as error:
            return str(error).splitlines()[0]
    if not any(entry["id"] == exercise.id for entry in run.report["exercises"]):
        return "the run ended without a result for this exercise"
    return run


def _not_measured_because(entry: dict[str, Any]) -> str:
    """The reasons the exercise's timing checks gave for not measuring, "" when all measured."""
    return "; ".join(dict.fromkeys(test["message"] or "a test was skipped" for group in entry["groups"]
                                   if group["status"] == NOT_MEASURED
                                   for test in group["tests"] if test["status"] == "skip"))


def submission_with(exercise: Exercise, module_source: Path, root: Path) -> Path:
    """Lay out a one-file submission (root/exercises/<id>/<module>.py) and return root."""
    target = exercise.module_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(module_source.read_bytes())
    return root
