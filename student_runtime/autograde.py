"""Autograding on every push, in GitHub Classroom's result format.

The workflow that `python -m grader release` writes runs `python -m student_runtime autograde
<exercise>` once per exercise. That command runs the exercise's visible tests in a pytest process
of their own, with this module loaded as a plugin (`OutcomeRecorder`) that writes one JSON line
per collected test and per result, so a run that hangs and is killed still says what it
collected and finished. Small pure functions then turn that record into:

- the GitHub Classroom v1 result (`classroom_result`): one entry per visible test, one point
  each, so a student earns partial credit within an exercise;
- a row of the job summary and `::error` annotations on the student's file.

A test file or workflow file that differs from its SHA-256 in exercises.json scores the
exercise 0 here. This guards against accidents, not against a determined student, who can edit
everything in their repository: the instructor's grade comes from the kit's own hidden suites.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from student_runtime.exercises import ExerciseInfo, sha256_of
from student_runtime.plugin import failure_message

RESULT_VERSION = 1
POINTS_PER_TEST = 1
# A message longer than this is cut in the summary and the annotations (the full text is in the log).
MESSAGE_CHARS = 300


# -- the recorder, inside the pytest run ----------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("concurrency kit").addoption(
        "--outcomes", type=Path, default=None, metavar="FILE",
        help="append one JSON line per collected test and per test result to FILE (the autograder)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("outcomes")
    if path is not None:
        config.pluginmanager.register(OutcomeRecorder(path), "concurrency_kit_outcome_recorder")


class OutcomeRecorder:
    """Writes what the run collected and how each test ended, a line at a time."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        self.failed_phase: dict[str, dict[str, Any]] = {}
        self.seconds: dict[str, float] = {}

    def _write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._write({"collect_error": _collect_error_message(report.longreprtext),
                         "text": report.longreprtext[-4000:]})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._write({"collected": [item.nodeid for item in session.items]})

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self._write({"deselected": len(items)})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        self.seconds[item.nodeid] = self.seconds.get(item.nodeid, 0.0) + report.duration
        if report.failed and item.nodeid not in self.failed_phase:
            status = "fail" if report.when == "call" else "error"
            excinfo = call.excinfo
            self.failed_phase[item.nodeid] = {
                "status": status,
                "message": failure_message(excinfo.value) if excinfo else report.longreprtext[-MESSAGE_CHARS:],
                "where": _deepest_line(excinfo, item.path.parent) if excinfo else None,
            }
        elif report.skipped and item.nodeid not in self.failed_phase:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            self.failed_phase[item.nodeid] = {"status": "error", "message": f"not run: {reason}", "where": None}

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        ended = self.failed_phase.get(nodeid, {"status": "pass", "message": "", "where": None})
        self._write({"test": nodeid, **ended, "duration": round(1000 * self.seconds.get(nodeid, 0.0))})

    def pytest_unconfigure(self) -> None:
        self.file.close()


def _deepest_line(excinfo: pytest.ExceptionInfo[BaseException], test_folder: Path) -> list[Any] | None:
    """[file, line] of the deepest traceback entry in the exercise folder that is not a test file."""
    found = None
    for entry in excinfo.traceback:
        path = Path(str(entry.path))
        if path.parent == test_folder and not path.name.startswith("test_"):
            found = [path.name, entry.lineno + 1]
    return found


def _collect_error_message(text: str) -> str:
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return " ".join(errors[-2:]) if errors else (text.strip().splitlines() or ["cannot be imported"])[-1]


def visible_tests_command(exercise_id: str, outcomes: Path, options: Sequence[str] = ()) -> list[str]:
    """The pytest run of one exercise's visible tests that records each test's outcome in
    `outcomes`. The repository's conftest.py files and addopts take no part, so that nothing
    but the exercise's module and tests decides a result; anyio's plugin (httpx brings it, no
    exercise uses it) is left out: it takes a third of pytest's start-up time."""
    return [sys.executable, "-m", "pytest", f"exercises/{exercise_id}",
            "-p", "student_runtime.autograde", "--outcomes", str(outcomes),
            "--noconftest", "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:anyio", *options]


# -- the record of one run, read back by the autograder --------------------------------------

@dataclass
class RunRecord:
    """What one pytest run of an exercise's visible tests wrote through OutcomeRecorder."""

    collected: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # by test id
    collect_errors: list[str] = field(default_factory=list)
    timed_out: float | None = None  # seconds, when the run was stopped
    deselected: int = 0  # tests left out with -m (the student's `status` leaves out timing tests)

    @classmethod
    def read(cls, lines: Iterable[str], timed_out: float | None = None) -> RunRecord:
        record = cls(timed_out=timed_out)
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # the last line of a killed run may be cut short
                continue
            if "collected" in entry:
                record.collected = list(entry["collected"])
            elif "collect_error" in entry:
                record.collect_errors.append(entry["collect_error"])
            elif "deselected" in entry:
                record.deselected += int(entry["deselected"])
            elif "test" in entry:
                record.results[entry["test"]] = entry
        return record


def changed_files(sums: Mapping[str, str], root: Path) -> list[str]:
    """The files (path -> SHA-256 at release) that are missing or differ now."""
    return [name for name, digest in sums.items()
            if not (root / name).is_file() or sha256_of(root / name) != digest]


def edited_files(exercise: ExerciseInfo, root: Path, workflow_files: Mapping[str, str]) -> list[str]:
    """The exercise's test files and the workflow files that differ from the release."""
    return changed_files(exercise.test_files, root) + changed_files(workflow_files, root)


def classroom_tests(exercise: ExerciseInfo, record: RunRecord, edited: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One Classroom test entry per visible test the release lists, whatever the run did."""
    expected = list(exercise.tests) or record.collected
    module = exercise.module_file(Path(".")).as_posix()
    tests = []
    for test_id in expected:
        result = record.results.get(test_id)
        if result is None:
            status, message, where, duration = "error", _why_not_run(record, test_id), None, 0
        else:
            status, message, where = result["status"], result["message"], result.get("where")
            duration = int(result.get("duration", 0))
        if edited:
            message = (f"{', '.join(edited)} changed since the release, so this exercise scores 0 here;"
                       " restore the file(s) with git" + (f" (the test itself: {status})" if status else ""))
        score = POINTS_PER_TEST if status == "pass" and not edited else 0
        on_module = where is not None and where[0] == Path(module).name
        tests.append({
            "name": test_id.split("::", 1)[-1],
            "status": "fail" if edited and status == "pass" else status,
            "score": score,
            "message": message,
            "test_code": f'python -m pytest "{test_id}"',
            "filename": module if on_module else "",
            "line_no": int(where[1]) if on_module else 0,
            "duration": duration,  # milliseconds
        })
    return tests


def _why_not_run(record: RunRecord, test_id: str) -> str:
    if record.collect_errors:
        return f"the tests could not start: {record.collect_errors[0]}"
    if record.timed_out is not None:
        return (f"not finished: the exercise's tests were stopped after {record.timed_out:.0f} s"
                " (a deadlock, or a thread that never ends?)")
    if record.collected and test_id not in record.collected:
        return "this test was not found: restore the exercise's test file"
    return "this test did not report a result (the test run crashed or exited early)"


def classroom_result(tests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """GitHub Classroom's v1 result for one runner (one exercise)."""
    statuses = {test["status"] for test in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {
        "version": RESULT_VERSION,
        "status": status if tests else "error",
        "max_score": POINTS_PER_TEST * len(tests),
        "tests": [dict(test) for test in tests],
    }


def error_result(name: str, message: str) -> dict[str, Any]:
    """The result of a step that could not run the tests at all: one test, in error."""
    return classroom_result([{"name": name, "status": "error", "score": 0, "message": message,
                              "test_code": "", "filename": "", "line_no": 0, "duration": 0}])


def encoded(result: Mapping[str, Any]) -> str:
    """The step output `result`: the result JSON in base64, as Classroom's reporter reads it."""
    return base64.b64encode(json.dumps(result).encode()).decode()


def points(result: Mapping[str, Any]) -> tuple[int, int]:
    return sum(test["score"] for test in result["tests"]), result["max_score"]


def summary_rows(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Markdown table rows: exercise, points, and what failed, in the tests' own words."""
    rows = []
    for exercise_id, result in results.items():
        earned, maximum = points(result)
        failed = [f"`{test['name']}`: {_shorten(test['message'])}" for test in result["tests"]
                  if test["score"] < POINTS_PER_TEST]
        rows.append(f"| {exercise_id} | {earned} / {maximum} | {_cell('<br>'.join(failed)) or 'all passed'} |")
    return rows


def summary_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    return "\n".join(["| exercise | points | what failed |", "| --- | --- | --- |",
                      *summary_rows(results)]) + "\n"


def annotations(result: Mapping[str, Any], module_file: str) -> list[str]:
    """`::error` workflow commands on the student's file, one per failed test."""
    lines = []
    for test in result["tests"]:
        if test["score"] >= POINTS_PER_TEST:
            continue
        place = f"file={_property(test['filename'] or module_file)}"
        if test["line_no"]:
            place += f",line={test['line_no']}"
        lines.append(f"::error {place},title={_property(test['name'])}::{_data(test['message'])}")
    return lines


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _data(text: str) -> str:
    return _shorten(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
