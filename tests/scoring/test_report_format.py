"""The JSON report format is pinned by golden files (tests/scoring/golden/<case>.json).

Each case lists test outcomes and integrity findings; the golden file is the report
build_report must produce from them. To accept a deliberate format change, bump
REPORT_VERSION, run with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding
from grader.manifest import Exercise
from grader.scoring import TestOutcome, build_report, group_verdict, score_group

GOLDEN = Path(__file__).with_name("golden")
EXERCISE = Exercise(
    id="01_example", module="example", title="An example", time_limit=10,
    points={"correctness": 2, "races": 5}, hints=(),
)
PROTECTIONS = {"landlock": "in force", "privilege drop": "not in force: the grader does not run as root"}
TOO_BUSY = "the machine was too busy to measure a speedup"


def outcome(group: str, name: str, status: str = "pass", message: str = "") -> TestOutcome:
    return TestOutcome(EXERCISE.id, group, name, status, message)


ALL_PASS = [outcome("correctness", "test_a"), outcome("races", "test_b")]
CASES: dict[str, tuple[list[TestOutcome], list[Finding]]] = {
    "all_pass": (ALL_PASS, []),
    "one_group_fails": ([
        outcome("correctness", "test_a"),
        outcome("races", "test_b"),
        outcome("races", "test_c", "fail", "lost update: expected 800, got 613"),
    ], []),
    "skip_and_error_earn_nothing": ([
        outcome("correctness", "test_a", "skip", "fewer than 2 usable cores"),
        outcome("races", "test_b", "error", "fixture failed"),
    ], []),
    "group_without_tests": ([outcome("correctness", "test_a")], []),
    "skip_beside_a_pass_is_not_measured": ([
        outcome("correctness", "test_a"),
        outcome("races", "test_b"),
        outcome("races", "test_c", "skip", TOO_BUSY),
    ], []),
    "other_exercise_ignored": ([outcome("correctness", "test_a"),
                                TestOutcome("02_other", "x", "test_x", "pass")], []),
    "unknown_group_is_reported": ([*ALL_PASS, outcome("racse", "test_c")], []),
    "suspicious_keeps_its_points": (ALL_PASS, [
        Finding(SUSPICIOUS, "example.py:3: gc (the garbage collector's view of every object):"
                            " no solution of this exercise needs it"),
    ]),
    "tampered_earns_nothing": (ALL_PASS, [
        Finding(SUSPICIOUS, "example.py:3: sys.settrace (tracing and frame access): no solution of this exercise needs it"),
        Finding(TAMPERED, "the race check could not watch your code: 2 threads ran your code untraced"),
    ]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden_file(case: str):
    outcomes, findings = CASES[case]
    report = build_report([EXERCISE], outcomes, {EXERCISE.id: findings}, PROTECTIONS)
    golden = GOLDEN / f"{case}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert report == json.loads(golden.read_text(encoding="utf-8"))


def test_every_golden_file_belongs_to_a_case():
    assert sorted(path.stem for path in GOLDEN.glob("*.json")) == sorted(CASES)


def test_a_group_needs_every_test_to_pass():
    assert score_group(3, [outcome("races", "a"), outcome("races", "b", "fail")]) == 0
    assert score_group(3, [outcome("races", "a"), outcome("races", "b")]) == 3
    assert score_group(3, []) == 0
    assert score_group(3, [outcome("races", "a", "skip")]) == 0
    assert score_group(3, [outcome("races", "a"), outcome("races", "b", "skip")]) == 0


def test_a_skip_leaves_its_group_not_measured_with_the_reason():
    assert group_verdict([outcome("speedup", "a"), outcome("speedup", "b", "skip", TOO_BUSY)]) == (
        "not measured", f"not measured: {TOO_BUSY}; ask for a regrade")


def test_a_failure_outweighs_a_skip():
    assert group_verdict([outcome("speedup", "a", "fail", "no speedup"), outcome("speedup", "b", "skip", TOO_BUSY)]) == (
        "failed", "")


def test_tampering_voids_every_group_but_keeps_the_test_verdicts():
    report = build_report([EXERCISE], ALL_PASS, {EXERCISE.id: [Finding(TAMPERED, "a reply was forged")]})
    [exercise] = report["exercises"]
    assert (exercise["points"], report["points"]) == (0, 0)
    assert exercise["message"] == "0 points: the submission tampered with the grading (a reply was forged)"
    assert [group["status"] for group in exercise["groups"]] == ["earned", "earned"]
