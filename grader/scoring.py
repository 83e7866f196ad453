"""Turn test outcomes into points: small pure functions over plain data.

The pytest plugin collects one `TestOutcome` per hidden test, the integrity findings of each
exercise and the protections in force, and calls `build_report`; `--report-json` writes what
it returns. The format is versioned; golden files in tests/scoring/golden/ pin it.

The rules, per group of an exercise's points in exercises.toml:
- a group earns its points when at least one of its tests passed and none failed or skipped;
- a failed test (or a fixture error) makes the group "failed";
- a skipped test, with no failure beside it, makes the group "not measured": it earns
  nothing, and its note gives the skip's reason and asks for a regrade;
- a test marked with a group the manifest does not list is reported in a group of its own,
  "unknown group", worth nothing, so that a misspelled marker is never silently ignored.
An exercise whose integrity is "tampered" earns 0, and its message says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grader.harness.integrity import TAMPERED, Finding, overall_status
from grader.manifest import Exercise

REPORT_VERSION = 2


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class, despite its name

    exercise: str
    group: str
    name: str
    status: str  # "pass", "fail", "error" or "skip"
    message: str = ""  # for a skip, its reason


def group_verdict(outcomes: Sequence[TestOutcome]) -> tuple[str, str]:
    """(status, note) of a group: earned, failed, not measured or not run."""
    statuses = {outcome.status for outcome in outcomes}
    if statuses & {"fail", "error"}:
        return "failed", ""
    skipped = [outcome for outcome in outcomes if outcome.status == "skip"]
    if skipped:
        return "not measured", f"not measured: {skipped[0].message or 'a test was skipped'}; ask for a regrade"
    if "pass" in statuses:
        return "earned", ""
    return "not run", "no test of this group ran"


def score_group(points: int, outcomes: Sequence[TestOutcome]) -> int:
    return points if group_verdict(outcomes)[0] == "earned" else 0


def _group(name: str, points: int, max_points: int, status: str, note: str,
           outcomes: Sequence[TestOutcome]) -> dict[str, Any]:
    return {
        "name": name,
        "points": points,
        "max_points": max_points,
        "status": status,
        "note": note,
        "tests": [{"name": o.name, "status": o.status, "message": o.message} for o in outcomes],
    }


def exercise_report(exercise: Exercise, outcomes: Iterable[TestOutcome],
                    findings: Sequence[Finding] = ()) -> dict[str, Any]:
    mine = [outcome for outcome in outcomes if outcome.exercise == exercise.id]
    integrity = overall_status(findings)
    groups = []
    for group, points in exercise.points.items():
        in_group = [outcome for outcome in mine if outcome.group == group]
        status, note = group_verdict(in_group)
        earned = score_group(points, in_group) if integrity != TAMPERED else 0
        groups.append(_group(group, earned, points, status, note, in_group))
    for group in sorted({outcome.group for outcome in mine} - set(exercise.points)):
        in_group = [outcome for outcome in mine if outcome.group == group]
        groups.append(_group(group, 0, 0, "unknown group",
                             "exercises.toml has no such group for this exercise, so these tests earn"
                             " nothing; fix their @pytest.mark.group", in_group))
    message = ""
    if integrity == TAMPERED:
        first = next(finding.evidence for finding in findings if finding.status == TAMPERED)
        message = f"0 points: the submission tampered with the grading ({first})"
    return {
        "id": exercise.id,
        "title": exercise.title,
        "points": sum(group["points"] for group in groups),
        "max_points": exercise.max_points,
        "message": message,
        "integrity": {"status": integrity, "evidence": [finding.evidence for finding in findings]},
        "groups": groups,
    }


def build_report(
    exercises: Iterable[Exercise],
    outcomes: Iterable[TestOutcome],
    findings: Mapping[str, Sequence[Finding]] | None = None,
    protections: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The versioned report for every exercise that has at least one outcome.

    `findings` are each exercise's integrity findings (by exercise id); `protections` says, per
    protection of the sandbox, whether it was in force during the run and why not.
    """
    outcomes = list(outcomes)
    findings = findings or {}
    graded = [e for e in exercises if any(outcome.exercise == e.id for outcome in outcomes)]
    reports = [exercise_report(exercise, outcomes, findings.get(exercise.id, ())) for exercise in graded]
    return {
        "version": REPORT_VERSION,
        "points": sum(report["points"] for report in reports),
        "max_points": sum(report["max_points"] for report in reports),
        "protections": dict(protections or {}),
        "exercises": reports,
    }
