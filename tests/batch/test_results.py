"""results.json, feedback.md and grades.csv, pinned by golden files (tests/batch/golden/).

Each case is a report the hidden suites could write (built with scoring.build_report) and,
where the grader fills gaps, the exercises it could not grade. The golden files are what the
grader must write from it. To accept a deliberate change, bump RESULTS_VERSION if the JSON
changes, run with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from grader.batch.results import (NEVER_REPORTED, complete_report, feedback_markdown, grades_csv,
                                  results_document, split_points)
from grader.harness.integrity import TAMPERED, Finding
from grader.manifest import Exercise
from grader.runner import SuiteRun, measured_again
from grader.scoring import TestOutcome, build_report

GOLDEN = Path(__file__).with_name("golden")
RACE = Exercise(id="01_example", module="example", title="An example", time_limit=10,
                points={"correctness": 2, "races": 5}, hints=("Hold one lock.", "Use `with`."))
QUEUE = Exercise(id="02_other", module="other", title="Another", time_limit=10, points={"results": 3}, hints=())
EVERY_TEST = [("01_example", "correctness", "test_a"), ("01_example", "races", "test_b"),
              ("01_example", "races", "test_c"), ("01_example", "races", "test_d"),
              ("02_other", "results", "test_x")]
ABOUT = {"student": "alice", "submission": "submissions/alice", "commit": "0123456789abcdef0123456789abcdef01234567",
         "graded_at": "2026-12-02T11:00:00+00:00", "kit_version": "0.1.0", "python": "3.11.7",
         "fingerprint": "f" * 64, "duration": 12.5, "problem": ""}
LOST = ("lost update: expected 800, got 613. Another thread ran between reading and writing the value. (to see these"
        ' thread switches again, run: python -m pytest "tests/01_race_condition/test_counter_graded.py::test_x[y]"'
        ' --seed 7 --submission "/home/teacher/class/ada")')


def report(statuses: dict[str, str], findings: dict[str, list[Finding]] | None = None) -> dict[str, Any]:
    """A suites' report in which each test has the status given (pass when not named)."""
    outcomes = [TestOutcome(e, g, n, statuses.get(n, "pass"), LOST if statuses.get(n) == "fail" else "")
                for e, g, n in EVERY_TEST if statuses.get(n) != "missing"]
    return build_report([RACE, QUEUE], outcomes, findings, {"landlock": "in force"})


EXPECTED = build_report([RACE, QUEUE], [TestOutcome(e, g, n, "error", NEVER_REPORTED) for e, g, n in EVERY_TEST])
CASES: dict[str, tuple[dict[str, Any] | None, dict[str, str]]] = {
    "full_marks": (report({}), {}),
    "one_race_fails": (report({"test_c": "fail"}), {}),
    "a_test_never_reported": (report({"test_d": "missing"}), {}),
    "file_missing": (report({}), {"02_other": "no file exercises/02_other/other.py in the submission"}),
    "no_report_at_all": (None, {}),
    "tampered": (report({}, {"01_example": [Finding(TAMPERED, "a reply was forged")]}), {}),
    "measured_again": (measured_again(SuiteRun(report({"test_c": "skip"}), 0, ""), [RACE, QUEUE],
                                      lambda exercise: SuiteRun(report({"test_c": "fail"}), 0, ""), None).report, {}),
}


def document(case: str) -> dict[str, Any]:
    actual, not_graded = CASES[case]
    return results_document(complete_report(EXPECTED, actual, not_graded), **ABOUT)


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_and_feedback_match_golden_files(case):
    results = document(case)
    feedback = feedback_markdown(results, [RACE, QUEUE])
    for path, text in ((GOLDEN / f"results_{case}.json", json.dumps(results, indent=2) + "\n"),
                       (GOLDEN / f"feedback_{case}.md", feedback)):
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), path.name


def test_every_golden_file_belongs_to_a_case():
    found = {p.name for p in GOLDEN.iterdir() if p.name.startswith(("results_", "feedback_"))}
    kinds = (("results", "json"), ("feedback", "md"))
    assert found == {f"{kind}_{case}.{ext}" for case in CASES for kind, ext in kinds}


@pytest.mark.parametrize("case", sorted(CASES))
def test_test_scores_add_up_to_the_points(case):
    results = document(case)
    for exercise in results["exercises"]:
        tests = [test for test in results["tests"] if test["exercise"] == exercise["id"]]
        assert sum(test["score"] for test in tests) == exercise["points"]
        assert sum(test["max_score"] for test in tests) == exercise["max_points"]
    assert sum(exercise["points"] for exercise in results["exercises"]) == results["points"]
    assert {(t["exercise"], t["group"], t["name"]) for t in results["tests"]} == set(EVERY_TEST)


def test_a_test_that_never_reported_fails_its_group():
    results = document("a_test_never_reported")
    [races] = [g for e in results["exercises"] for g in e["groups"] if g["name"] == "races"]
    assert (races["points"], races["status"]) == (0, "failed")
    [test_d] = [t for t in results["tests"] if t["name"] == "test_d"]
    assert (test_d["status"], test_d["message"]) == ("error", NEVER_REPORTED)
    assert results["points"] == 2 + 3


def test_no_report_gives_zero_with_the_reason():
    results = document("no_report_at_all")
    assert results["points"] == 0
    reason = "0 points: the grading run ended without a result"
    assert all(exercise["message"].startswith(reason) for exercise in results["exercises"])


def test_points_are_split_in_whole_numbers():
    assert split_points(5, 3) == [2, 2, 1]
    assert split_points(2, 3) == [1, 1, 0]
    assert split_points(3, 1) == [3]
    assert split_points(4, 0) == []


def test_grades_csv_has_a_row_per_student_sorted():
    bob = {**document("one_race_fails"), "student": "bob"}
    alice = document("full_marks")
    assert grades_csv([bob, alice], ["01_example", "02_other"]) == (
        "student,01_example,02_other,total\n"
        "alice,7,3,10\n"
        "bob,2,3,5\n")
