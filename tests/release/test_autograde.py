"""`python -m student_runtime autograde`: every push is graded on the visible tests, in GitHub
Classroom's v1 result format, with a summary table and annotations, whatever the code does."""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main
from grader.manifest import load_exercises
from student_runtime.autograde import (
    RunRecord,
    annotations,
    classroom_result,
    summary_table,
    classroom_tests,
)
from student_runtime.exercises import ExerciseInfo, sha256_of
from student_runtime.plugin import failure_message

EXERCISES = load_exercises()
TEST_KEYS = {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}


def assert_classroom_v1(result: dict[str, Any]) -> None:
    """Exactly the fields and types of GitHub Classroom's v1 result."""
    assert set(result) == {"version", "status", "max_score", "tests"}
    assert result["version"] == 1 and result["status"] in {"pass", "fail", "error"}
    assert isinstance(result["max_score"], int) and result["tests"], result
    for test in result["tests"]:
        assert set(test) == TEST_KEYS, test
        assert test["status"] in {"pass", "fail", "error"}
        assert all(isinstance(test[key], str) for key in ("name", "message", "test_code", "filename"))
        assert all(isinstance(test[key], int) for key in ("score", "line_no", "duration"))


# -- pure functions ---------------------------------------------------------------------------

COUNTER = ExerciseInfo("01_race_condition", "counter", "Race conditions", ("hint",),
                       tests=tuple(f"exercises/01_race_condition/test_counter.py::test_{n}" for n in ("a", "b", "c")))


def finished(name: str, status: str, message: str = "", where: list[Any] | None = None) -> str:
    return json.dumps({"test": f"exercises/01_race_condition/test_counter.py::test_{name}", "status": status,
                       "message": message, "where": where, "duration": 12})


def test_failure_messages_keep_the_tests_words_and_drop_pytests_explanation():
    error = AssertionError("lost update: 4 threads x 200 increments gave 346, expected 800\nassert 346 == 800\n"
                           " +  where 346 = <counter.Counter object at 0x7f49>.value")
    assert failure_message(error) == "lost update: 4 threads x 200 increments gave 346, expected 800"
    assert failure_message(NotImplementedError("Bank() is not written yet")) == \
        "not implemented yet: Bank() is not written yet"
    assert failure_message(KeyError("bob")) == "KeyError: 'bob'"


def test_each_passed_test_earns_one_point_and_the_result_has_the_classroom_format():
    record = RunRecord.read([finished("a", "pass"),
                             finished("b", "fail", "lost update", ["counter.py", 14]),
                             finished("c", "error", "fixture failed")])
    result = classroom_result(classroom_tests(COUNTER, record))
    assert_classroom_v1(result)
    assert result["status"] == "error" and result["max_score"] == 3
    assert [t["score"] for t in result["tests"]] == [1, 0, 0]
    assert result["tests"][1]["filename"] == "exercises/01_race_condition/counter.py"
    assert result["tests"][1]["line_no"] == 14 and result["tests"][0]["duration"] == 12


def test_a_run_that_was_stopped_still_lists_every_test():
    # The last line of a killed run may be cut in the middle.
    record = RunRecord.read([finished("a", "pass"), '{"test": "exercises/01_race'], timed_out=600)
    result = classroom_result(classroom_tests(COUNTER, record))
    assert_classroom_v1(result)
    assert [t["status"] for t in result["tests"]] == ["pass", "error", "error"]
    assert "stopped after 600 s" in result["tests"][1]["message"]


def test_a_module_that_cannot_be_imported_fails_every_test_with_the_reason():
    record = RunRecord(collect_errors=["SyntaxError: invalid syntax (counter.py, line 3)"])
    result = classroom_result(classroom_tests(COUNTER, record))
    assert {t["status"] for t in result["tests"]} == {"error"} and len(result["tests"]) == 3
    assert "SyntaxError" in result["tests"][0]["message"]


def test_an_edited_test_file_scores_its_exercise_zero():
    record = RunRecord.read([finished(name, "pass") for name in "abc"])
    result = classroom_result(classroom_tests(COUNTER, record, ["exercises/01_race_condition/test_counter.py"]))
    assert [t["score"] for t in result["tests"]] == [0, 0, 0] and result["status"] == "fail"
    assert "test_counter.py changed since the release" in result["tests"][0]["message"]


def test_annotations_point_at_the_students_line_and_escape_what_github_would_misread():
    record = RunRecord.read([finished("a", "pass"), finished("b", "fail", "100% lost:\nsee", ["counter.py", 14]),
                             finished("c", "fail", "no line")])
    lines = annotations(classroom_result(classroom_tests(COUNTER, record)), "exercises/01_race_condition/counter.py")
    assert lines == [
        "::error file=exercises/01_race_condition/counter.py,line=14,title=test_b::100%25 lost: see",
        "::error file=exercises/01_race_condition/counter.py,title=test_c::no line",
    ]


def test_the_summary_is_a_table_whose_cells_survive_a_pipe_in_a_message():
    record = RunRecord.read([finished("a", "pass"), finished("b", "fail", "a | b"), finished("c", "pass")])
    table = summary_table({"01_race_condition": classroom_result(classroom_tests(COUNTER, record))})
    assert table.splitlines() == ["| exercise | points | what failed |", "| --- | --- | --- |",
                                  "| 01_race_condition | 2 / 3 | `test_b`: a \\| b |"]


# -- the command, in a released template ------------------------------------------------------

def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repository"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".venv", "*.egg-info", "autograde-results*"))
    return copy


def autograde(python: Path, root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict], str]:
    """Run the command as a workflow step does; return the run, the decoded `result` outputs
    and the step summary."""
    output, summary = root / "github-output", root / "step-summary"
    output.unlink(missing_ok=True)
    summary.unlink(missing_ok=True)
    environment = {**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    run = subprocess.run([str(python), "-m", "student_runtime", "autograde", *args], cwd=root, env=environment,
                         capture_output=True, text=True, timeout=900)
    results = [json.loads(base64.b64decode(line.split("=", 1)[1]))
               for line in (output.read_text().splitlines() if output.exists() else []) if line.startswith("result=")]
    return run, results, summary.read_text() if summary.exists() else ""


def grade_every_exercise(python: Path, root: Path) -> dict[str, dict[str, Any]]:
    results = {}
    for exercise in EXERCISES:
        run, [result], summary = autograde(python, root, exercise.id)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert_classroom_v1(result)
        assert summary.startswith("| exercise | points | what failed |") and f"| {exercise.id} |" in summary
        results[exercise.id] = result
    return results


def listed_tests(root: Path) -> dict[str, int]:
    listing = json.loads((root / "exercises.json").read_text())
    return {exercise["id"]: len(exercise["tests"]) for exercise in listing["exercises"]}


def reporter_total(results: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """What GitHub Classroom's reporter posts: tests[].score summed over results with a max_score."""
    scored = [result for result in results.values() if result["max_score"] > 0]
    return sum(test["score"] for r in scored for test in r["tests"]), sum(r["max_score"] for r in scored)


def test_the_reference_earns_every_point_and_the_total_says_so(solved, installed, tmp_path):
    root = copy_of(solved, tmp_path)
    results = grade_every_exercise(installed, root)
    assert {i: r["max_score"] for i, r in results.items()} == listed_tests(root)
    assert all(r["status"] == "pass" for r in results.values())
    earned, maximum = reporter_total(results)
    assert earned == maximum == sum(listed_tests(root).values())
    run, _, summary = autograde(installed, root, "--total")
    assert run.returncode == 0, run.stdout
    assert f"**Total: {maximum} / {maximum} points**" in summary
    document = json.loads((root / "autograde-results.json").read_text())
    assert document["score"] == document["max_score"] == maximum and set(document["exercises"]) == set(results)


def test_the_untouched_stubs_earn_nothing_and_say_what_is_missing(released, installed, tmp_path):
    root = copy_of(released, tmp_path)
    results = grade_every_exercise(installed, root)
    assert reporter_total(results) == (0, sum(listed_tests(root).values()))
    assert all("not implemented yet" in t["message"] for r in results.values() for t in r["tests"])
    run, _, summary = autograde(installed, root, "--total")
    assert run.returncode == 1 and "**Total: 0 / " in summary
    assert "::error file=exercises/01_race_condition/counter.py,line=" in autograde(installed, root, "01")[0].stdout


HUNG_COUNTER = '''
import threading

class Counter:
    def __init__(self):
        self._value = 0

    @property
    def value(self):
        return self._value

    def increment(self, amount=1):
        if threading.current_thread() is not threading.main_thread():
            threading.Event().wait()  # never returns
        self._value += amount

def count_in_threads(n_threads, increments_per_thread):
    return n_threads * increments_per_thread
'''


def test_a_step_stopped_after_its_timeout_still_reports_every_test(solved, installed, tmp_path):
    root = copy_of(solved, tmp_path)
    (root / "exercises" / "01_race_condition" / "counter.py").write_text(HUNG_COUNTER)
    run, [result], summary = autograde(installed, root, "01", "--timeout", "8")
    assert_classroom_v1(result)
    assert result["status"] == "error" and result["max_score"] == listed_tests(root)["01_race_condition"]
    assert [t["status"] for t in result["tests"]] == ["pass", "pass", "error"]
    assert "stopped after 8 s" in result["tests"][2]["message"] and "stopped after 8 s" in summary


def test_an_edited_test_file_or_workflow_scores_zero_and_the_summary_says_why(solved, installed, tmp_path):
    root = copy_of(solved, tmp_path)
    test_file = root / "exercises" / "02_lock" / "test_bank.py"
    test_file.write_text(test_file.read_text() + "\n# made easier\n")
    _, [result], summary = autograde(installed, root, "02")
    assert reporter_total({"02": result})[0] == 0
    assert "exercises/02_lock/test_bank.py changed since the release" in summary
    _, [untouched], _ = autograde(installed, root, "01")
    assert reporter_total({"01": untouched})[0] == untouched["max_score"] > 0
    workflow = root / ".github" / "workflows" / "autograde.yml"
    workflow.write_text(workflow.read_text().replace("timeout-minutes: 15", "timeout-minutes: 99"))
    _, [after], summary = autograde(installed, root, "01")
    assert reporter_total({"01": after})[0] == 0 and ".github/workflows/autograde.yml changed" in summary


def test_an_unknown_exercise_is_an_error_that_still_has_a_tests_list(released, installed, tmp_path):
    run, [result], _ = autograde(installed, copy_of(released, tmp_path), "99")
    assert run.returncode == 2 and "no exercise '99'" in run.stderr
    assert_classroom_v1(result)
    assert result["status"] == "error"


def test_the_listing_records_the_released_files_sums(released):
    listing = json.loads((released / "exercises.json").read_text())
    for exercise in listing["exercises"]:
        for name, digest in exercise["test_files"].items():
            assert sha256_of(released / name) == digest
    assert list(listing["workflow_files"]) == [".github/workflows/autograde.yml"]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_the_listing_names_every_visible_test(released, exercise):
    listing = {e["id"]: e for e in json.loads((released / "exercises.json").read_text())["exercises"]}
    tests = listing[exercise.id]["tests"]
    assert tests and all(t.startswith(f"exercises/{exercise.id}/test_") and "::test_" in t for t in tests)


# -- the batch grader's view of the same files ------------------------------------------------

# Wrong modules whose visible verdicts do not depend on a schedule, beside references and stubs.
MIXED = {"01_race_condition": "ignores_amount", "02_lock": "missing_value_errors", "03_semaphore": "no_value_error",
         "04_event": "reference", "05_queue": "reference", "06_primes": "below_two_counts_as_prime"}


def test_the_batch_grader_on_the_visible_tests_gives_each_exercise_the_autograders_points(
        released, installed, tmp_path):
    mixed = copy_of(released, tmp_path / "mixed")
    for exercise in EXERCISES:
        source = MIXED.get(exercise.id)
        if source:
            module = exercise.module_file() if source == "reference" else exercise.mutants_dir / f"{source}.py"
            shutil.copy(module, exercise.module_file(mixed))
    stubs = copy_of(released, tmp_path / "stubs")
    seen = {name: {exercise_id: result for exercise_id, result in grade_every_exercise(installed, root).items()}
            for name, root in (("mixed", mixed), ("stubs", stubs))}
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name, root in (("mixed", mixed), ("stubs", stubs)):
        shutil.copytree(root, submissions / name, ignore=shutil.ignore_patterns("autograde-results*"))
    assert main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--visible", "--jobs", "1"]) == 0
    with open(tmp_path / "out" / "grades.csv", newline="") as file:
        grades = {row["student"]: row for row in csv.DictReader(file)}
    for name, results in seen.items():
        assert {i: int(grades[name][i]) for i in results} == {i: reporter_total({i: r})[0] for i, r in results.items()}
    assert 0 < int(grades["mixed"]["total"]) < sum(listed_tests(mixed).values())
    document = json.loads((tmp_path / "out" / "mixed" / "results.json").read_text())
    assert "not a grade" in document["protections"]["visible tests"]
