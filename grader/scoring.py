"""Turn test outcomes into points: small pure functions over plain data.

The pytest plugin collects one `TestOutcome` per hidden test and calls `build_report`; the
batch grader and GitHub Classroom read the JSON it produces. The format is versioned; golden
files in tests/grader/ pin it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grader.manifest import Exercise

REPORT_VERSION = 1


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, despite its name

    exercise: str
    group: str
    name: str
    status: str  # "pass", "fail", "error" or "skip"
    message: str = ""


def score_group(points: int, outcomes: list[TestOutcome]) -> int:
    """A group earns its points when at least one of its tests passed and none failed.

    A skipped test is inconclusive, not wrong: a speedup cannot be measured on one core or on
    a machine too busy to tell, and the group's other tests still bear witness.
    """
    statuses = {outcome.status for outcome in outcomes}
    return points if "pass" in statuses and not statuses & {"fail", "error"} else 0


def exercise_report(exercise: Exercise, outcomes: Iterable[TestOutcome]) -> dict[str, Any]:
    mine = [outcome for outcome in outcomes if outcome.exercise == exercise.id]
    groups = []
    for group, points in exercise.points.items():
        in_group = [outcome for outcome in mine if outcome.group == group]
        groups.append({
            "name": group,
            "points": score_group(points, in_group),
            "max_points": points,
            "tests": [
                {"name": outcome.name, "status": outcome.status, "message": outcome.message}
                for outcome in in_group
            ],
        })
    return {
        "id": exercise.id,
        "title": exercise.title,
        "points": sum(group["points"] for group in groups),
        "max_points": exercise.max_points,
        "groups": groups,
    }


def build_report(exercises: Iterable[Exercise], outcomes: Iterable[TestOutcome]) -> dict[str, Any]:
    """The versioned report for every exercise that has at least one outcome."""
    outcomes = list(outcomes)
    graded = [e for e in exercises if any(outcome.exercise == e.id for outcome in outcomes)]
    reports = [exercise_report(exercise, outcomes) for exercise in graded]
    return {
        "version": REPORT_VERSION,
        "points": sum(report["points"] for report in reports),
        "max_points": sum(report["max_points"] for report in reports),
        "exercises": reports,
    }
