"""The JSON report format is pinned by golden files (tests/scoring/golden/<case>.json).

Each case lists test outcomes; the golden file is the report build_report must produce from
them. To accept a deliberate format change, run with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.manifest import Exercise
from grader.scoring import TestOutcome, build_report, score_group

GOLDEN = Path(__file__).with_name("golden")
EXERCISE = Exercise(
    id="01_example", module="example", title="An example", time_limit=10,
    points={"correctness": 2, "races": 5}, hints=(),
)


def outcome(group: str, name: str, status: str = "pass", message: str = "") -> TestOutcome:
    return TestOutcome(EXERCISE.id, group, name, status, message)


CASES = {
    "all_pass": [outcome("correctness", "test_a"), outcome("races", "test_b")],
    "one_group_fails": [
        outcome("correctness", "test_a"),
        outcome("races", "test_b"),
        outcome("races", "test_c", "fail", "lost update: expected 800, got 613"),
    ],
    "skip_and_error_earn_nothing": [
        outcome("correctness", "test_a", "skip", "fewer than 2 usable cores"),
        outcome("races", "test_b", "error", "fixture failed"),
    ],
    "group_without_tests": [outcome("correctness", "test_a")],
    "skip_beside_a_pass_is_inconclusive": [
        outcome("correctness", "test_a"),
        outcome("races", "test_b"),
        outcome("races", "test_c", "skip", "the machine is too busy to measure a speedup"),
    ],
    "other_exercise_ignored": [outcome("correctness", "test_a"),
                               TestOutcome("02_other", "x", "test_x", "pass")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden_file(case: str):
    report = build_report([EXERCISE], CASES[case])
    golden = GOLDEN / f"{case}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert report == json.loads(golden.read_text(encoding="utf-8"))


def test_a_group_needs_every_test_to_pass():
    assert score_group(3, [outcome("races", "a"), outcome("races", "b", "fail")]) == 0
    assert score_group(3, [outcome("races", "a"), outcome("races", "b")]) == 3
    assert score_group(3, []) == 0
    assert score_group(3, [outcome("races", "a", "skip")]) == 0
    assert score_group(3, [outcome("races", "a"), outcome("races", "b", "skip")]) == 3
