"""The kit proves itself, rustlings-style, for every exercise in the manifest.

The hidden suites already run against the reference solutions in this same test run (they
live under tests/). Here each exercise must also show that its untouched stub scores zero,
that every mutant (a plausible wrong solution) fails the hidden test it names, and that the
visible tests pass on the reference and reject the stub.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.manifest import KIT_ROOT, Exercise, Mutant, load_exercises
from grader.runner import run_hidden_suites, submission_with

EXERCISES = load_exercises()
MIN_MUTANTS = 5
MUTANTS = [(exercise, mutant) for exercise in EXERCISES for mutant in exercise.mutants()]


def by_id(exercise: Exercise) -> str:
    return exercise.id


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_exercise_has_all_its_parts(exercise: Exercise):
    stub, reference = exercise.module_file(KIT_ROOT), exercise.module_file()
    assert stub.is_file(), f"missing stub {stub}"
    assert reference.is_file(), f"missing reference {reference}"
    assert stub.read_text() != reference.read_text(), "the stub must not contain the answer"
    assert (exercise.stub_dir / "README.md").is_file()
    assert list(exercise.stub_dir.glob("test_*.py")), "no visible tests"
    assert list(exercise.hidden_suite_dir.glob("test_*.py")), "no hidden suite"
    count = len(exercise.mutants())
    assert count >= MIN_MUTANTS, f"{count} mutants; every exercise needs at least {MIN_MUTANTS}"
    hidden_suite = "".join(path.read_text() for path in exercise.hidden_suite_dir.glob("test_*.py"))
    for mutant in exercise.mutants():
        for test in filter(None, (mutant.caught_by, *mutant.timing_checks)):
            assert f"def {test}(" in hidden_suite, f"{mutant.path.name} names {test}, which is not a hidden test"


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_untouched_stub_scores_zero(exercise: Exercise, tmp_path: Path):
    run = run_hidden_suites([exercise], submission_with(exercise, exercise.module_file(KIT_ROOT), tmp_path))
    [report] = run.report["exercises"]
    empty_groups = [group["name"] for group in report["groups"] if not group["tests"]]
    assert not empty_groups, f"groups of exercises.toml without any hidden test: {empty_groups}"
    assert report["points"] == 0, f"the stub earned points:\n{run.output[-3000:]}"


@pytest.mark.parametrize(("exercise", "mutant"), MUTANTS, ids=[f"{e.id}/{m.name}" for e, m in MUTANTS])
def test_mutant_fails_the_test_it_names(exercise: Exercise, mutant: Mutant, tmp_path: Path):
    catcher = mutant.caught_by
    assert catcher, f"{mutant.path.name} must say which hidden test catches it ('Caught by: test_name')"
    run = run_hidden_suites([exercise], submission_with(exercise, mutant.path, tmp_path), select=catcher)
    ran = [t for g in run.report["exercises"][0]["groups"] for t in g["tests"]]
    assert ran, f"no hidden test matches {catcher!r}"
    failed = [t["name"] for t in ran if t["status"] == "fail"]
    assert failed, f"mutant {mutant.name} passed {catcher}:\n{run.output[-3000:]}"


def _run_visible_tests(exercise: Exercise, module_source: Path, root: Path) -> subprocess.CompletedProcess[str]:
    folder = root / "exercises" / exercise.id
    shutil.copytree(exercise.stub_dir, folder)
    shutil.copy(module_source, folder / f"{exercise.module}.py")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True, text=True, cwd=root,
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_visible_tests_pass_on_the_reference(exercise: Exercise, tmp_path: Path):
    completed = _run_visible_tests(exercise, exercise.module_file(), tmp_path)
    assert completed.returncode == 0, completed.stdout[-3000:]


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_visible_tests_reject_the_stub_kindly(exercise: Exercise, tmp_path: Path):
    completed = _run_visible_tests(exercise, exercise.module_file(KIT_ROOT), tmp_path)
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert "not implemented yet" in completed.stdout
    assert "Traceback" not in completed.stdout, "the stub's failures should be one line each"
