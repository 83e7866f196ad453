"""What the batch grader writes per student and per class: pure functions over plain data.

The hidden suites' report (scoring.py) says what each test did. These functions turn it into
the student's results.json (every hidden test with its share of the points), feedback.md (in
the student's words, with the next hint) and the class's grades.csv. Golden files in
tests/batch/golden/ pin the formats.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grader.manifest import Exercise

RESULTS_FORMAT = "concurrency-kit-results"
RESULTS_VERSION = 2  # 2: each exercise says how many runs measured it (measurements, measured_again)
NEVER_REPORTED = "this test never reported a result, so it counts as failed"


def complete_report(expected: Mapping[str, Any], actual: Mapping[str, Any] | None,
                    not_graded: Mapping[str, str]) -> dict[str, Any]:
    """The report of every exercise and test of `expected` (a collection of the instructor's
    suites), filled from `actual` (a student's run, None when it wrote none).

    An exercise in `not_graded` (id -> reason) or missing from `actual` earns 0 and says why;
    a test missing from its exercise's report counts as an error, and fails its group. Every
    exercise says how many runs measured it (runner.measured_again): 0 when none graded it.
    """
    graded = {exercise["id"]: exercise for exercise in (actual or {}).get("exercises", [])}
    exercises = []
    for wanted in expected["exercises"]:
        reason = not_graded.get(wanted["id"]) or \
            ("" if wanted["id"] in graded else "the grading run ended without a result for this exercise")
        exercises.append(_zero(wanted, reason) if reason else _with_missing_tests(wanted, graded[wanted["id"]]))
    return {
        "version": expected["version"],
        "points": sum(exercise["points"] for exercise in exercises),
        "max_points": sum(exercise["max_points"] for exercise in exercises),
        "protections": dict((actual or {}).get("protections", expected.get("protections", {}))),
        "exercises": exercises,
    }


def _zero(wanted: Mapping[str, Any], reason: str) -> dict[str, Any]:
    exercise = copy.deepcopy(dict(wanted))
    exercise.update(points=0, message=f"0 points: {reason}", integrity={"status": "clean", "evidence": []},
                    measurements=0, measured_again="")
    for group in exercise["groups"]:
        group.update(points=0, status="failed", note="")
        for test in group["tests"]:
            test.update(status="error", message=f"not graded: {reason}")
    return exercise


def _with_missing_tests(wanted: Mapping[str, Any], got: Mapping[str, Any]) -> dict[str, Any]:
    exercise = copy.deepcopy(dict(got))
    exercise.setdefault("measurements", 1)
    exercise.setdefault("measured_again", "")
    groups = {group["name"]: group for group in exercise["groups"]}
    for wanted_group in wanted["groups"]:
        group = groups.get(wanted_group["name"])
        if group is None:
            group = {**copy.deepcopy(wanted_group), "tests": []}
            exercise["groups"].append(group)
        reported = {test["name"] for test in group["tests"]}
        missing = [test["name"] for test in wanted_group["tests"] if test["name"] not in reported]
        if missing:
            group["tests"] += [{"name": name, "status": "error", "message": NEVER_REPORTED} for name in missing]
            group.update(points=0, status="failed")
    exercise["points"] = sum(group["points"] for group in exercise["groups"])
    return exercise


def split_points(points: int, count: int) -> list[int]:
    """`points` split over `count` tests in whole numbers, the remainder to the first ones."""
    if count == 0:
        return []
    share, remainder = divmod(points, count)
    return [share + (1 if index < remainder else 0) for index in range(count)]


def results_document(report: Mapping[str, Any], **about: Any) -> dict[str, Any]:
    """The student's results.json: `about` (student, submission, commit, graded_at, kit_version,
    python, fingerprint, duration, problem) and every hidden test with its share of the points.

    Each test carries a whole-number share of its group's points and scores it only when the
    group is earned, so the scores of an exercise's tests add up to its points.
    """
    tests = []
    for exercise in report["exercises"]:
        for group in exercise["groups"]:
            earned = group["points"] == group["max_points"] and group["status"] == "earned"
            for test, share in zip(group["tests"], split_points(group["max_points"], len(group["tests"]))):
                tests.append({
                    "exercise": exercise["id"], "group": group["name"], "name": test["name"],
                    "status": test["status"], "score": share if earned else 0, "max_score": share,
                    "message": test["message"], "integrity": exercise["integrity"]["status"],
                })
    return {
        "format": RESULTS_FORMAT,
        "version": RESULTS_VERSION,
        **about,
        "points": report["points"],
        "max_points": report["max_points"],
        "protections": report["protections"],
        "exercises": [{**exercise, "groups": [{k: v for k, v in group.items() if k != "tests"}
                                              for group in exercise["groups"]]}
                      for exercise in report["exercises"]],
        "tests": tests,
    }


def feedback_markdown(results: Mapping[str, Any], exercises: Sequence[Exercise]) -> str:
    """The student's feedback.md: points per exercise, what failed and why, the next hint."""
    hints = {exercise.id: exercise.hints for exercise in exercises}
    commit = f", commit {results['commit'][:12]}" if results.get("commit") else ""
    lines = [f"# Feedback for {results['student']}", "",
             f"Graded {results['graded_at']}{commit}. **Total: {results['points']}/{results['max_points']}**", ""]
    if results.get("problem"):
        lines += [f"> {results['problem']}", ""]
    for exercise in results["exercises"]:
        lines += [f"## {exercise['id']}: {exercise['points']}/{exercise['max_points']}", "", exercise["title"], ""]
        if exercise["message"]:
            lines += [exercise["message"], ""]
        if exercise.get("measured_again"):
            why = exercise["measured_again"].removeprefix("measured again: ")
            lines += [f"Measured {exercise['measurements']} times: a timing check could not measure ({why}),"
                      " so this exercise was graded again with nothing else running; these are the points"
                      " of the last run.", ""]
        if exercise["integrity"]["status"] != "clean":
            lines += [f"Integrity: {exercise['integrity']['status']}"]
            lines += [f"- {evidence}" for evidence in exercise["integrity"]["evidence"]] + [""]
        for group in exercise["groups"]:
            lines.append(f"- {group['name']}: {group['points']}/{group['max_points']}"
                         + (f" ({group['note']})" if group["note"] else ""))
            failed = [test for test in results["tests"] if test["exercise"] == exercise["id"]
                      and test["group"] == group["name"] and test["status"] in ("fail", "error")]
            for test in failed if not exercise["message"] else []:  # a message already says why all failed
                said = for_the_student(test["message"])
                lines += [f"  - `{test['name']}` failed:", "", _indented(said, "    > "), ""]
        if exercise["points"] < exercise["max_points"] and hints.get(exercise["id"]):
            lines += ["", f"Next hint: {hints[exercise['id']][0]}"][lines[-1] == "":]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# The command that replays a hidden race check: for the instructor (results.json keeps it), not
# for the student, who has neither the hidden suites nor the grader's paths.
_REPLAY = re.compile(r" ?\(to see these thread switches again, run: [^)]*\)")


def for_the_student(message: str) -> str:
    """A test's message as feedback shows it: without the hidden suite's replay command."""
    return _REPLAY.sub("", message)


def _indented(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in (text or "(no message)").splitlines())


def grades_csv(results: Iterable[Mapping[str, Any]], exercise_ids: Sequence[str]) -> str:
    """grades.csv: one row per student (sorted), the points of each exercise, and the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *exercise_ids, "total"])
    for document in sorted(results, key=lambda document: document["student"]):
        points = {exercise["id"]: exercise["points"] for exercise in document["exercises"]}
        writer.writerow([document["student"], *(points.get(i, 0) for i in exercise_ids), document["points"]])
    return out.getvalue()
