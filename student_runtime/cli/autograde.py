"""`python -m student_runtime autograde EXERCISE`: run one exercise's visible tests and report
them to GitHub Actions in GitHub Classroom's format; `--total` adds up every exercise.

Run at the top of a student repository (the released template). For one exercise it writes:
the step output `result` (base64 of the Classroom v1 result) to $GITHUB_OUTPUT, a table row to
$GITHUB_STEP_SUMMARY, `::error` annotations on the student's file, and
autograde-results/<id>.json. `--total` writes every result to autograde-results.json and the
total to the summary, and exits 1 unless every point was earned. Without GitHub's variables
(a run on the student's machine) the same text goes to the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from student_runtime import autograde
from student_runtime.exercises import ExerciseInfo, Listing, ListingError, find_exercise, read_listing
from student_runtime.processes import NEW_SESSION, stop_session

RESULTS_FOLDER = "autograde-results"
RESULTS_FILE = "autograde-results.json"
# Seconds one exercise's visible tests may take in all (each test also has pytest-timeout's
# limit from pyproject.toml). The workflow step's own limit is longer, so that this command,
# not GitHub, stops a hung run and still reports every test.
DEFAULT_TIMEOUT = 600


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("autograde", help="grade the visible tests for GitHub Actions",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("exercise", nargs="?", help="the exercise: its number (03) or id (03_semaphore)")
    which.add_argument("--total", action="store_true", help="add up the results of every exercise")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"stop the exercise's tests after this long (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository (default: here)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    root = arguments.root
    try:
        listing = read_listing(root)
        if arguments.total:
            return total(root, listing)
        exercise = find_exercise(listing.exercises, arguments.exercise)
    except (ListingError, KeyError) as error:
        # Still a result with a tests list: Classroom's reporter rejects a result without one.
        print(f"error: {error.args[0]}", file=sys.stderr)
        report(root, arguments.exercise, autograde.error_result(arguments.exercise, error.args[0]), "")
        return 2
    result = grade_exercise(root, listing, exercise, arguments.timeout)
    report(root, exercise.id, result, exercise.module_file(Path(".")).as_posix())
    return 0  # failed tests are a grade, not an error of this step


def report(root: Path, name: str, result: Mapping[str, Any], module_file: str) -> None:
    """The result as a file, a step output, a summary table and annotations."""
    folder = root / RESULTS_FOLDER
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _append_env_file("GITHUB_OUTPUT", f"result={autograde.encoded(result)}\n")
    _append_env_file("GITHUB_STEP_SUMMARY", autograde.summary_table({name: result}))
    for line in autograde.annotations(result, module_file):
        print(line)
    earned, maximum = autograde.points(result)
    print(f"{name}: {earned} / {maximum} points")


def grade_exercise(root: Path, listing: Listing, exercise: ExerciseInfo, timeout: float) -> dict[str, Any]:
    """Run the exercise's visible tests in a pytest process of their own and build its result."""
    edited = autograde.edited_files(exercise, root, listing.workflow_files)
    with tempfile.TemporaryDirectory(prefix="autograde-") as scratch:
        outcomes = Path(scratch) / "outcomes.jsonl"
        outcomes.touch()
        timed_out = _run(autograde.visible_tests_command(exercise.id, outcomes, ["-ra"]), root, timeout)
        record = autograde.RunRecord.read(outcomes.read_text(encoding="utf-8").splitlines(), timed_out)
    return autograde.classroom_result(autograde.classroom_tests(exercise, record, edited))


def _run(command: list[str], cwd: Path, timeout: float) -> float | None:
    """Run command with its output in the step's log; stop it and all it started after
    `timeout` seconds, and return that timeout, or None when it ended by itself."""
    process = subprocess.Popen(command, cwd=cwd, start_new_session=NEW_SESSION)
    try:
        process.wait(timeout=timeout)
        return None
    except subprocess.TimeoutExpired:
        stop_session(process)
        print(f"stopped the tests after {timeout:.0f} s", flush=True)
        return timeout


def total(root: Path, listing: Listing) -> int:
    """Every exercise's result in one file, and the total in the summary."""
    results: dict[str, Mapping[str, Any]] = {}
    for exercise in listing.exercises:
        path = root / RESULTS_FOLDER / f"{exercise.id}.json"
        try:
            results[exercise.id] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = autograde.RunRecord(collect_errors=["this exercise's autograding step did not run"])
            results[exercise.id] = autograde.classroom_result(autograde.classroom_tests(exercise, record))
    for name in autograde.changed_files(listing.workflow_files, root):
        print(f"::warning file={name}::{name} changed since the release, so every exercise scores 0")
    earned = sum(autograde.points(result)[0] for result in results.values())
    maximum = sum(autograde.points(result)[1] for result in results.values())
    document = {"version": autograde.RESULT_VERSION, "score": earned, "max_score": maximum, "exercises": results}
    (root / RESULTS_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    _append_env_file("GITHUB_STEP_SUMMARY", f"\n**Total: {earned} / {maximum} points**\n\n"
                     + autograde.summary_table(results))
    print(f"total: {earned} / {maximum} points")
    return 0 if earned == maximum else 1


def _append_env_file(variable: str, text: str) -> None:
    """Append to the file GitHub Actions names in `variable`; print the text when not on GitHub."""
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)
    elif variable == "GITHUB_STEP_SUMMARY":
        print(text)
