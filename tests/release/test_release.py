"""`python -m grader release`: the students' template repository holds what they need, nothing
of the grading, and works on its own in a fresh virtual environment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


from grader.cli import main
from grader.manifest import KIT_ROOT, load_exercises

EXERCISES = load_exercises()
# Lines this short or this common ("return result", "import threading") prove nothing.
DISTINCTIVE = 30


def released_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*")
            if path.is_file() and ".venv" not in path.parts and "__pycache__" not in path.parts
            and ".egg-info" not in str(path)}


def normalized_lines(path: Path) -> set[str]:
    lines = {re.sub(r"\s+", " ", line).strip() for line in path.read_text(encoding="utf-8").splitlines()}
    return {line for line in lines if len(line) >= DISTINCTIVE}


def test_the_release_holds_the_exercises_and_the_runtime_only(released):
    expected = {"README.md", "pyproject.toml", ".gitignore", "exercises.json", ".github/workflows/autograde.yml"}
    expected |= {path.relative_to(KIT_ROOT).as_posix() for path in (KIT_ROOT / "student_runtime").rglob("*.py")}
    for exercise in EXERCISES:
        expected |= {f"exercises/{exercise.id}/{path.name}" for path in exercise.stub_dir.iterdir()
                     if path.is_file() and path.suffix in (".py", ".md")}
    assert released_files(released) == expected


def test_no_released_file_holds_code_of_the_solutions_or_the_hidden_suites(released):
    """Every line of a solution or hidden suite that the student's side does not share."""
    shared = set().union(*(normalized_lines(path) for path in KIT_ROOT.glob("exercises/*/*.py")))
    shared |= set().union(*(normalized_lines(path) for path in (KIT_ROOT / "student_runtime").rglob("*.py")))
    secret_files = [*KIT_ROOT.glob("solutions/*/*.py"), *KIT_ROOT.glob("tests/0*/*.py"),
                    *KIT_ROOT.glob("tests/0*/mutants/*.py")]
    secret = set().union(*(normalized_lines(path) for path in secret_files)) - shared
    assert len(secret) > 500  # the comparison has something to find
    for name in released_files(released):
        leaked = normalized_lines(released / name) & secret
        assert not leaked, f"{name} holds lines of the solutions or hidden suites: {sorted(leaked)[:3]}"


def test_the_release_refuses_a_folder_that_is_not_empty(released, capsys):
    assert main(["release", str(released)]) == 2
    assert "not empty" in capsys.readouterr().err


def visible_tests(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_an_untouched_stub_fails_and_nothing_mentions_the_solutions(released, installed):
    run = visible_tests(installed, released, "exercises/01_race_condition")
    assert run.returncode == 1, run.stdout
    assert "concurrency kit: testing your files in exercises/" in run.stdout
    assert "not implemented yet" in run.stdout
    assert "solution" not in (run.stdout + run.stderr).lower()


def test_the_reference_passes_every_visible_test(solved, installed):
    run = visible_tests(installed, solved)  # bare `pytest` at the root: every exercise
    assert run.returncode == 0, run.stdout[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "skipped" not in summary, summary
