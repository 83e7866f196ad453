"""Gradescope: results.json pinned by golden files, and the autograder zip run as Gradescope runs it.

The golden files (tests/batch/golden/gradescope_<case>.json) are what gradescope_results must
make of the hand-written results documents below. To accept a deliberate change of the format,
run with UPDATE_GOLDEN=1 and review the diff.

The end-to-end tests unzip the bundle into a folder laid out like /autograder and run its
run_autograder with this test's interpreter (named by PYTHON_VARIABLE) instead of the venv
that setup.sh makes on Gradescope: setup.sh installs system packages as root, which a test
must not do, and the kit it would install is the one under test anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.batch.gradescope import PYTHON_VARIABLE, gradescope_results
from grader.cli import main
from grader.manifest import get_exercise
from grader.scoring import TestOutcome, group_verdict

GOLDEN = Path(__file__).with_name("golden")
EXERCISE = "01_race_condition"
SUSPICIOUS_GC = "counter.py:3: gc (the garbage collector's view of every object): no solution of this exercise needs it"
LOST_UPDATE = "lost update: expected 800, got 613"
REPLAY = ' (to see these thread switches again, run: python -m pytest "tests/x.py::test_y" --seed 7 --submission "/s")'
TOO_BUSY = "the machine was too busy to measure the threads' overlap"


def document(tests: list[tuple[str, str, str, int, int, str]], *, integrity: str = "clean",
             evidence: tuple[str, ...] = (), message: str = "", problem: str = "") -> dict[str, Any]:
    """A results document (RESULTS_SCHEMA version 1) of one exercise, from its tests:
    (group, name, status, score, max_score, message)."""
    groups: dict[str, dict[str, Any]] = {}
    for group, name, status, score, max_score, test_message in tests:
        entry = groups.setdefault(group, {"name": group, "points": 0, "max_points": 0, "tests": []})
        entry["points"] += score
        entry["max_points"] += max_score
        entry["tests"].append({"name": name, "status": status, "message": test_message})
    for entry in groups.values():
        outcomes = [TestOutcome(EXERCISE, entry["name"], t["name"], t["status"], t["message"]) for t in entry["tests"]]
        entry["status"], entry["note"] = group_verdict(outcomes)
    points = sum(score for *_, score, _, _ in tests)
    max_points = sum(max_score for *_, max_score, _ in tests)
    return {
        "format": "concurrency-kit-results", "version": 1, "student": "alice",
        "submission": "submissions/alice", "commit": None, "graded_at": "2026-12-02T11:00:00+00:00",
        "kit_version": "0.1.0", "python": "3.11.7", "fingerprint": "0" * 64, "duration": 12.6,
        "points": points, "max_points": max_points, "problem": problem,
        "protections": {"landlock": "in force"},
        "exercises": [{"id": EXERCISE, "title": "Race conditions", "points": points, "max_points": max_points,
                       "integrity": {"status": integrity, "evidence": list(evidence)}, "message": message,
                       "groups": list(groups.values())}],
        "tests": [{"exercise": EXERCISE, "group": group, "name": name, "status": status, "score": score,
                   "max_score": max_score, "message": test_message, "integrity": integrity}
                  for group, name, status, score, max_score, test_message in tests],
    }


CASES: dict[str, dict[str, Any]] = {
    # A group fails around a passing test, a skip leaves its group unmeasured, a flag stands.
    "partial": document([
        ("correctness", "test_counts_every_increment", "pass", 2, 2, ""),
        ("races", "test_no_update_is_ever_lost[shared_counter]", "pass", 0, 3, ""),
        ("races", "test_no_update_is_ever_lost[two_counters]", "fail", 0, 2, LOST_UPDATE + REPLAY),
        ("concurrency", "test_threads_overlap", "skip", 0, 3, TOO_BUSY),
    ], integrity="suspicious", evidence=(SUSPICIOUS_GC,)),
    "tampered": document([
        ("correctness", "test_counts_every_increment", "pass", 0, 2, ""),
        ("races", "test_no_update_is_ever_lost", "pass", 0, 5, ""),
        ("concurrency", "test_threads_overlap", "pass", 0, 3, ""),
    ], integrity="tampered", evidence=("a reply was forged",),
        message="0 points: the submission tampered with the grading (a reply was forged)"),
    "not_graded": document([
        ("correctness", "test_counts_every_increment", "error", 0, 2, "not graded: the submission is empty"),
        ("races", "test_no_update_is_ever_lost", "error", 0, 5, "not graded: the submission is empty"),
        ("concurrency", "test_threads_overlap", "error", 0, 3, "not graded: the submission is empty"),
    ], message="0 points: the submission is empty", problem="the submission is empty"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_match_golden_file(case: str):
    results = gradescope_results(CASES[case])
    golden = GOLDEN / f"gradescope_{case}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert results == json.loads(golden.read_text(encoding="utf-8"))
    assert results["score"] == sum(test["score"] for test in results["tests"]) == CASES[case]["points"]


def test_every_gradescope_golden_file_belongs_to_a_case():
    assert sorted(path.stem for path in GOLDEN.glob("gradescope_*.json")) == sorted(f"gradescope_{c}" for c in CASES)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    zip_path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert main(["gradescope-bundle", str(zip_path), "--exercise", EXERCISE]) == 0
    return zip_path


def test_the_bundle_holds_what_grading_needs_and_nothing_else(bundle: Path):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    names = set(infos)
    exercise = get_exercise(EXERCISE)
    expected = {"setup.sh", "run_autograder", "pyproject.toml", "README.md", "exercises.toml",
                "grader/__main__.py", "grader/batch/gradescope.py", "grader/harness/plugin.py",
                "student_runtime/preempt.py", "student_runtime/plugin.py",
                f"solutions/{EXERCISE}/{exercise.module}.py"}
    expected |= {path.relative_to(exercise.root).as_posix()
                 for path in exercise.hidden_suite_dir.glob("*.py")}
    assert expected <= names, f"missing from the bundle: {sorted(expected - names)}"
    unwanted = [name for name in names
                if "__pycache__" in name or name.endswith(".pyc") or "/mutants/" in name
                or name.startswith(("exercises/", "benchmark", "tests/kit/", "tests/harness/", "tests/security/",
                                    "tests/scoring/", "tests/batch/"))]
    assert unwanted == []
    assert {name.split("/")[1] for name in names if name.startswith(("tests/", "solutions/"))} == {EXERCISE}
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111 == 0o111, f"{script} is not executable in the zip"


def autograder_folder(bundle: Path, root: Path, student_file: Path) -> Path:
    """Lay out root as Gradescope does: source/ (the zip, modes kept as unzip keeps them),
    run_autograder beside it, and the student's file in submission/."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, root / "source"))
            target.chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    module = get_exercise(EXERCISE).module
    target = root / "submission" / "exercises" / EXERCISE / f"{module}.py"
    target.parent.mkdir(parents=True)
    shutil.copyfile(student_file, target)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict[str, Any]:
    # Run from elsewhere than root: the script must find /autograder from its own location.
    subprocess.run([str(root / "run_autograder")], cwd=root.parent, env={**os.environ, PYTHON_VARIABLE: python},
                   capture_output=True, text=True, timeout=120, check=True)
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="run_autograder is a bash script; install bash")


@needs_bash
def test_run_autograder_gives_the_reference_full_marks(bundle: Path, tmp_path: Path):
    exercise = get_exercise(EXERCISE)
    root = autograder_folder(bundle, tmp_path / "autograder", exercise.module_file())
    results = run_autograder(root)
    assert (results["score"], results["max_score"]) == (exercise.max_points, exercise.max_points)
    assert results["tests"], "no test in results.json"
    for test in results["tests"]:
        assert test["name"].startswith(f"{EXERCISE} · ")
        assert test["status"] == "passed" and test["score"] == test["max_score"], test
        assert test["visibility"] == "visible" and isinstance(test["output"], str)
    assert sum(test["max_score"] for test in results["tests"]) == exercise.max_points
    assert isinstance(results["execution_time"], int) and isinstance(results["output"], str)


@needs_bash
def test_run_autograder_gives_the_untouched_stub_nothing(bundle: Path, tmp_path: Path):
    exercise = get_exercise(EXERCISE)
    root = autograder_folder(bundle, tmp_path / "autograder", exercise.module_file(exercise.root))
    results = run_autograder(root)
    assert (results["score"], results["max_score"]) == (0, exercise.max_points)
    assert any(test["status"] == "failed" for test in results["tests"])
    assert all(test["score"] == 0 for test in results["tests"])


@needs_bash
def test_run_autograder_reports_a_grader_that_could_not_run(bundle: Path, tmp_path: Path):
    exercise = get_exercise(EXERCISE)
    root = autograder_folder(bundle, tmp_path / "autograder", exercise.module_file())
    # An "interpreter" that fails at once and writes nothing: the grader died before any result.
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    # A full score planted behind a link where results.json goes is neither read nor written through.
    planted = tmp_path / "planted.json"
    planted.write_text('{"score": 10, "tests": []}', encoding="utf-8")
    (root / "results").mkdir()
    (root / "results" / "results.json").symlink_to(planted)
    results = run_autograder(root, python=str(broken))
    assert (results["score"], results["tests"]) == (0, [])
    assert "The grader failed (exit code 3)" in results["output"]
    assert json.loads(planted.read_text(encoding="utf-8"))["score"] == 10
    assert not (root / "results" / "results.json").is_symlink()


def test_an_unknown_exercise_is_refused_with_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["gradescope-bundle", str(tmp_path / "autograder.zip"), "--exercise", "99_nope"]) == 2
    assert "no exercise '99_nope'" in capsys.readouterr().err
    assert not (tmp_path / "autograder.zip").exists()
