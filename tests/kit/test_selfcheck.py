"""The kit proves itself, rustlings-style, for every exercise in the manifest.

The hidden suites already run against the reference solutions in this same test run (they
live under tests/), and test_check.py proves the tree's invariants (every part present,
groups and mutants naming real tests). Here each exercise must also show that its untouched
stub scores zero, that every mutant (a plausible wrong solution) fails the hidden test it
names, selected by its exact node id, and that the visible tests pass on the reference and
reject the stub.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.check import hidden_tests
from grader.manifest import KIT_ROOT, Exercise, Mutant, load_exercises
from grader.runner import run_hidden_suites, submission_with

EXERCISES = load_exercises()
MUTANTS = [(exercise, mutant) for exercise in EXERCISES for mutant in exercise.mutants()]


def by_id(exercise: Exercise) -> str:
    return exercise.id


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_untouched_stub_scores_zero(exercise: Exercise, tmp_path: Path):
    run = run_hidden_suites([exercise], submission_with(exercise, exercise.module_file(KIT_ROOT), tmp_path))
    [report] = run.report["exercises"]
    empty_groups = [group["name"] for group in report["groups"] if not group["tests"]]
    assert not empty_groups, f"groups of exercises.toml without any hidden test: {empty_groups}"
    assert report["points"] == 0, f"the stub earned points:\n{run.output[-3000:]}"


@pytest.mark.parametrize(("exercise", "mutant"), MUTANTS, ids=[f"{e.id}/{m.name}" for e, m in MUTANTS])
def test_mutant_fails_the_test_it_names(exercise: Exercise, mutant: Mutant, tmp_path: Path):
    catchers = [test for test in hidden_tests(exercise) if test.name == mutant.caught_by]
    assert len(catchers) == 1, f"{mutant.path.name} names no hidden test; `python -m grader dev-check` says more"
    [catcher] = catchers
    run = run_hidden_suites([exercise], submission_with(exercise, mutant.path, tmp_path),
                            node_ids=[catcher.node_id(KIT_ROOT)])
    ran = {t["name"].split("[")[0] for g in run.report["exercises"][0]["groups"] for t in g["tests"]}
    assert ran == {catcher.name}, f"the run of {catcher.node_id(KIT_ROOT)} ran {ran}"
    failed = [t["name"] for g in run.report["exercises"][0]["groups"] for t in g["tests"] if t["status"] == "fail"]
    assert failed, f"mutant {mutant.name} passed {catcher.name}:\n{run.output[-3000:]}"


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
