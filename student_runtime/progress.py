"""The student's progress: run exercises' visible tests and say where each one stands.

`status`, `check` and `watch` run each exercise's visible tests in a pytest process of their
own with the autograder's recorder (student_runtime/autograde.py), so a verdict is read from
what pytest recorded for each test, never from an exit code or printed text, and a run that
hangs still says which tests finished. `status` runs every exercise at once and leaves out the
tests marked `timing` (speedups and latencies), which a machine this busy could fail.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from student_runtime.autograde import POINTS_PER_TEST, RunRecord, classroom_tests
from student_runtime.autograde import visible_tests_command
from student_runtime.processes import NEW_SESSION, stop_session
from student_runtime.exercises import ExerciseInfo, ListingError, find_exercise, read_listing

NOT_STARTED, FAILING, PASSING = "not started", "failing", "passing"
TIMING_MARKER = "timing"
# Seconds every exercise's tests may take together in `status` before the unfinished ones count
# as failed: the command promises an answer within 10 s.
STATUS_DEADLINE = 8.0
# After Ctrl-C, seconds the tests get to stop by themselves before they are killed.
GRACE = 2.0
# Lines of pytest's output that say nothing about the student's code: objects' addresses, and
# advice on pytest's options that `check` does not take (`--no-header` drops the machine's paths).
NOISE = re.compile(r"^E\s+(\+\s+)?(where|and)\b.*\bat 0x[0-9a-f]+"
                   r"|^E\s+(Omitting \d+ identical items, use -vv to show|Use -v to get more diff)$")

# A traceback frame (`--tb=short`) of pytest's or Python's import machinery, with its source lines.
MACHINERY_FRAME = re.compile(r"(<frozen |\S*[/\\](_pytest|importlib)[/\\]\S*:\d+: in )")


@dataclass(frozen=True)
class Workspace:
    """Where the commands work: the repository at `root`, its exercises, and how the student
    types the commands there (the help text names them)."""

    root: Path
    exercises: tuple[ExerciseInfo, ...]
    command: str = "python -m student_runtime"

    @classmethod
    def of_repository(cls, root: Path) -> Workspace:
        """The student's repository, as its exercises.json lists it (ListingError if it cannot)."""
        return cls(root, read_listing(root).exercises)

    def find(self, name: str) -> ExerciseInfo:
        """The exercise named by number ("01", "1") or id; KeyError saying which exist."""
        return find_exercise(self.exercises, name)


def add_workspace_option(parser: argparse.ArgumentParser, workspace: Callable[[], Workspace] | None) -> None:
    """A command works on `workspace()` when given (the kit's own commands), else on the
    repository that --root names."""
    if workspace is None:
        parser.add_argument("--root", type=Path, default=Path("."), help="the repository (default: here)")
    parser.set_defaults(workspace=workspace)


def open_workspace(arguments: argparse.Namespace) -> Workspace | None:
    """The command's workspace, or None once the reason it cannot be read is printed."""
    if arguments.workspace is not None:
        return arguments.workspace()
    try:
        return Workspace.of_repository(arguments.root)
    except ListingError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


@dataclass(frozen=True)
class ExerciseRun:
    """What one run of an exercise's visible tests showed."""

    exercise: ExerciseInfo
    record: RunRecord

    @cached_property
    def results(self) -> list[dict[str, Any]]:
        """One entry per test the run collected, in the autograder's words."""
        return classroom_tests(replace(self.exercise, tests=()), self.record)

    @property
    def passed(self) -> int:
        return sum(result["score"] for result in self.results) // POINTS_PER_TEST

    @property
    def total(self) -> int:
        return len(self.record.collected)

    @property
    def left_out(self) -> int:
        """Tests deselected as timing tests."""
        return self.record.deselected

    @property
    def state(self) -> str:
        """passing: every test passed; not started: none did and the stub still raises
        NotImplementedError; failing: anything else (a module that cannot be imported too)."""
        results = self.results
        if self.record.collect_errors or not results:
            return FAILING
        if self.passed == self.total:
            return PASSING
        if self.passed == 0 and any(result["message"].startswith("not implemented yet") for result in results):
            return NOT_STARTED
        return FAILING

    def failures(self) -> list[tuple[str, str]]:
        """(test name, what went wrong) of every test that did not pass, or why none ran."""
        if self.record.collect_errors:
            return [("the tests could not start", self.record.collect_errors[0])]
        failed = [(result["name"], result["message"]) for result in self.results if result["status"] != "pass"]
        if not self.record.collected:
            failed.append(("the tests could not start", "no test was collected"
                           + (f" within {self.record.timed_out:.0f} s" if self.record.timed_out else "")))
        return failed


def pytest_command(exercise: ExerciseInfo, outcomes: Path, *, leave_out_timing: bool,
                   options: Sequence[str] = ()) -> list[str]:
    """The autograder's pytest run of one exercise (the same results), without the timing tests
    when `leave_out_timing`."""
    command = visible_tests_command(exercise.id, outcomes, options)
    if leave_out_timing:
        command += ["-m", f"not {TIMING_MARKER}"]
    return command


def run_all(workspace: Workspace, exercises: Sequence[ExerciseInfo],
            deadline: float = STATUS_DEADLINE) -> list[ExerciseRun]:
    """The visible tests of every exercise, all at once and without the timing checks; a run not
    over after `deadline` seconds is stopped, and its unfinished tests count as failed."""
    with tempfile.TemporaryDirectory(prefix="status-") as scratch:
        started = []
        for exercise in exercises:
            outcomes = Path(scratch) / f"{exercise.id}.jsonl"
            outcomes.touch()
            process = subprocess.Popen(pytest_command(exercise, outcomes, leave_out_timing=True),
                                       cwd=workspace.root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=NEW_SESSION)
            started.append((exercise, outcomes, process))
        end = time.monotonic() + deadline
        runs = []
        try:
            for exercise, outcomes, process in started:
                timed_out = None
                try:
                    process.wait(timeout=max(0.0, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = deadline
                runs.append(_finished_run(exercise, outcomes, timed_out))
        finally:
            for _, _, process in started:
                stop_session(process)
    return runs


def run_one(workspace: Workspace, exercise: ExerciseInfo, out: IO[str], options: Sequence[str] = ()) -> ExerciseRun:
    """Every visible test of one exercise, pytest's output shown on `out` as it comes, without
    its noise. Ctrl-C reaches the tests too; the KeyboardInterrupt is raised once they stopped."""
    with tempfile.TemporaryDirectory(prefix="check-") as scratch:
        outcomes = Path(scratch) / "outcomes.jsonl"
        outcomes.touch()
        color = ["--color=yes"] if out.isatty() else []
        command = pytest_command(exercise, outcomes, leave_out_timing=False,
                                 options=["--no-header", "--tb=short", "-rN", *color, *options])
        process = subprocess.Popen(command, cwd=workspace.root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace",
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert process.stdout is not None
            for line in _without_noise(process.stdout):
                out.write(line)
                out.flush()
            process.wait()
        except KeyboardInterrupt:
            try:
                process.wait(timeout=GRACE)
            except subprocess.TimeoutExpired:  # threads that never end keep pytest alive
                process.kill()
                process.wait()
            raise
        finally:
            if process.stdout is not None:
                process.stdout.close()
        return _finished_run(exercise, outcomes, None)


def _without_noise(lines: Iterable[str]) -> Iterable[str]:
    """pytest's lines less NOISE, less the frames of pytest's and Python's import machinery,
    less the `assert ...` pytest adds under a test's own message,
    and less its warnings summary, which only repeats (with the machine's paths) an exception
    a thread raised in a test that has failed already."""
    in_warnings = in_frame = explained = False
    for line in lines:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
        if plain.startswith("="):
            in_warnings = "warnings summary" in plain
        if not plain.startswith(" "):
            in_frame = bool(MACHINERY_FRAME.match(plain))
        repeated = explained and re.match(r"E\s+assert ", plain)  # pytest's words after the test's own
        explained = (explained or plain.startswith("E   AssertionError: ")) and plain.startswith("E ")
        if in_warnings or in_frame or repeated or NOISE.search(plain):
            continue
        yield line


def _finished_run(exercise: ExerciseInfo, outcomes: Path, timed_out: float | None) -> ExerciseRun:
    return ExerciseRun(exercise, RunRecord.read(outcomes.read_text(encoding="utf-8").splitlines(), timed_out))


def next_exercise(runs: Sequence[ExerciseRun]) -> ExerciseRun | None:
    """The first exercise, in the listing's order, that does not pass yet."""
    return next((run for run in runs if run.state != PASSING), None)


def status_table(runs: Sequence[ExerciseRun]) -> str:
    """A row per exercise: its state and how many of the tests run passed."""
    rows = [("exercise", "state", "tests passed")]
    for run in runs:
        timed_out = f", stopped after {run.record.timed_out:.0f} s" if run.record.timed_out else ""
        passed = f"{run.passed}/{run.total}" if run.record.collected else "none ran"
        rows.append((run.exercise.id, run.state, passed + timed_out))
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return "\n".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in rows) + "\n"


def status_report(workspace: Workspace, runs: Sequence[ExerciseRun]) -> str:
    """The table, the next exercise to do, and what the table leaves out."""
    lines = [status_table(runs)]
    passed, total = sum(run.passed for run in runs), sum(run.total for run in runs)
    lines.append(f"{passed} of {total} visible tests pass.")
    upcoming = next_exercise(runs)
    if upcoming is None:
        lines.append("Every exercise passes its visible tests.")
    else:
        number = upcoming.exercise.number
        lines.append(f"Next: {upcoming.exercise.id}. `{workspace.command} check {number}` shows what fails,"
                     f" `{workspace.command} hint {number}` gives a hint.")
    for run in runs:
        if run.record.timed_out:
            lines.append(f"{run.exercise.id}: its tests were stopped after {run.record.timed_out:.0f} s (a wait that"
                         " is not cut short, a deadlock, or a thread that never ends?);"
                         f" `{workspace.command} check {run.exercise.number}` runs them to the end.")
    left_out = sum(run.left_out for run in runs)
    if left_out:
        lines.append(f"Left out: {left_out} timing tests (speedups, how long a call takes), which a busy"
                     f" machine can fail; `{workspace.command} check NN` runs them too.")
    return "\n".join(lines) + "\n"


def check_summary(workspace: Workspace, run: ExerciseRun) -> str:
    """What failed and why, in the tests' own words, after pytest's output."""
    exercise = run.exercise
    failures = run.failures()
    if not failures:
        return f"{exercise.id}: all {run.total} visible tests pass.\n"
    counted = f"{run.passed} of {run.total} visible tests pass" if run.record.collected else "no test ran"
    lines = [f"{exercise.id}: {counted}. What failed and why:"]
    lines += [f"- {name}: {_one_line(message)}" for name, message in failures]
    lines.append(f"A hint: `{workspace.command} hint {exercise.number}`.")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
