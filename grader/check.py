"""The invariants of the kit's tree, proved from its files alone, without running any suite.

`python -m grader dev-check` and the kit's self-check (tests/kit) call `check_kit`. Every check is
a pure function of the files under a kit root and returns its problems, one line each, naming
the file and what to do. Hidden tests are found by parsing their files with `ast`, never by
importing them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.docs import missing_blocks
from grader.manifest import Exercise, ManifestError, load_exercises

MIN_MUTANTS = 5
# Caches a student's own test runs leave behind; never shipped, never a problem.
IGNORED_NAMES = frozenset({"__pycache__", ".pytest_cache"})


@dataclass(frozen=True)
class HiddenTest:
    """A test function of a hidden suite, as written in its file."""

    name: str
    path: Path
    line: int
    groups: tuple[str, ...]  # the names given to its @pytest.mark.group markers

    def node_id(self, root: Path) -> str:
        """The pytest node id that selects exactly this test (all its parametrizations)."""
        return f"{self.path.relative_to(root).as_posix()}::{self.name}"


def hidden_tests(exercise: Exercise) -> list[HiddenTest]:
    """Every module-level test function of the exercise's hidden suite."""
    found = []
    for path in sorted(exercise.hidden_suite_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                found.append(HiddenTest(node.name, path, node.lineno, _group_names(node.decorator_list)))
    return found


def _group_names(decorators: list[ast.expr]) -> tuple[str, ...]:
    names = []
    for decorator in decorators:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "group" and ast.unparse(decorator.func.value).endswith("mark")):
            first = decorator.args[0] if decorator.args else None
            names.append(first.value if isinstance(first, ast.Constant) else ast.unparse(decorator))
    return tuple(names)


def check_kit(root: Path) -> list[str]:
    """Every problem of the kit whose manifest is root/exercises.toml; empty when all hold."""
    try:
        exercises = load_exercises(root / "exercises.toml")
    except ManifestError as error:
        return [str(error)]
    except OSError as error:
        return [f"exercises.toml: cannot be read ({error.strerror}); restore it"]
    problems = unknown_exercise_folders(root, exercises)
    for exercise in exercises:
        problems += missing_parts(exercise)
        tests = hidden_tests(exercise)
        if tests:  # without any, missing_parts has said so; each group and mutant would repeat it
            problems += group_drift(exercise, tests)
            problems += mutants_naming_no_test(exercise, tests)
        if exercise.stub_dir.is_dir():
            problems += stray_files(exercise)
    return problems


def _shown(path: Path, exercise_or_root: Exercise | Path) -> str:
    root = exercise_or_root.root if isinstance(exercise_or_root, Exercise) else exercise_or_root
    return path.relative_to(root).as_posix()


def unknown_exercise_folders(root: Path, exercises: tuple[Exercise, ...]) -> list[str]:
    known = {exercise.id for exercise in exercises}
    folder = root / "exercises"
    children = sorted(folder.iterdir()) if folder.is_dir() else []
    return [
        f"{_shown(child, root)}: not an exercise of exercises.toml; remove it or add its entry"
        for child in children if child.name not in known and child.name not in IGNORED_NAMES
    ]


def missing_parts(exercise: Exercise) -> list[str]:
    """The stub, its README with the hints markers, visible tests, the reference, and a hidden
    suite with probes and enough mutants; and a stub that is not the answer."""
    stub, reference, readme = exercise.module_file(exercise.root), exercise.module_file(), exercise.stub_dir / "README.md"
    suite = exercise.hidden_suite_dir
    problems = []
    if not stub.is_file():
        problems.append(f"{_shown(stub, exercise)}: missing; add the stub module students edit")
    if not readme.is_file():
        problems.append(f"{_shown(readme, exercise)}: missing; write the task, the API, what is checked and the hints")
    elif missing_blocks(readme.read_text(encoding="utf-8"), ["hints"]):
        problems.append(f"{_shown(readme, exercise)}: the generated hints markers are missing; put"
                        " `<!-- BEGIN GENERATED: hints -->` and `<!-- END GENERATED: hints -->` under"
                        " '## Hints' and run `python -m grader docs`")
    if not list(exercise.stub_dir.glob("test_*.py")):
        problems.append(f"{_shown(exercise.stub_dir, exercise)}: no visible tests; add a test_*.py students can run")
    if not reference.is_file():
        problems.append(f"{_shown(reference, exercise)}: missing; add the reference solution")
    elif stub.is_file() and stub.read_bytes() == reference.read_bytes():
        problems.append(f"{_shown(stub, exercise)}: identical to {_shown(reference, exercise)};"
                        " the stub must not contain the answer")
    if not list(suite.glob("test_*.py")):
        problems.append(f"{_shown(suite, exercise)}: no hidden tests; add the grading suite as test_*.py")
    if not (suite / "probes.py").is_file():
        problems.append(f"{_shown(suite / 'probes.py', exercise)}: missing; add the probes the hidden tests call")
    count = len(list(exercise.mutants_dir.glob("*.py")))
    if count < MIN_MUTANTS:
        problems.append(f"{_shown(exercise.mutants_dir, exercise)}: {count} mutants; add {MIN_MUTANTS - count}"
                        f" more (every exercise needs at least {MIN_MUTANTS})")
    return problems


def group_drift(exercise: Exercise, tests: list[HiddenTest]) -> list[str]:
    """Every hidden test is in a group of the manifest, and every group has a test."""
    problems = []
    for test in tests:
        where = f"{_shown(test.path, exercise)}:{test.line}: {test.name}"
        if not test.groups:
            problems.append(f"{where} has no @pytest.mark.group; mark it with one of"
                            f" {', '.join(exercise.points)}, or it earns nothing")
        for group in test.groups:
            if group not in exercise.points:
                problems.append(f"{where} is in group {group!r}, which exercises.toml does not list for"
                                f" {exercise.id}; fix the marker or add the group to its points")
    used = {group for test in tests for group in test.groups}
    problems += [
        f"exercises.toml: group {group!r} of {exercise.id} has no hidden test; mark a test in"
        f" {_shown(exercise.hidden_suite_dir, exercise)}/ with @pytest.mark.group({group!r}) or remove the group"
        for group in exercise.points if group not in used
    ]
    return problems


def mutants_naming_no_test(exercise: Exercise, tests: list[HiddenTest]) -> list[str]:
    """Every mutant names the hidden test that catches it, and every test it names exists."""
    names = {test.name for test in tests}
    problems = []
    for mutant in exercise.mutants():
        shown = _shown(mutant.path, exercise)
        if mutant.caught_by is None:
            problems.append(f"{shown}: its docstring lacks a 'Caught by: test_name' line; name the hidden test that fails it")
        elif mutant.caught_by not in names:
            problems.append(f"{shown}: 'Caught by: {mutant.caught_by}' names no test of"
                            f" {_shown(exercise.hidden_suite_dir, exercise)}/; fix the name")
        problems += [
            f"{shown}: 'Fails the timing check: {test}' names no test of"
            f" {_shown(exercise.hidden_suite_dir, exercise)}/; fix the name"
            for test in mutant.timing_checks if test not in names
        ]
    return problems


def stray_files(exercise: Exercise) -> list[str]:
    """A student's folder holds only what the release ships: the stub, README.md, visible tests."""
    shipped = f"{exercise.module}.py"
    return [
        f"{_shown(path, exercise)}: not part of the exercise (students get only {shipped},"
        " README.md and test_*.py); remove it"
        for path in sorted(exercise.stub_dir.iterdir())
        if path.name not in IGNORED_NAMES
        and not (path.is_file() and (path.name in (shipped, "README.md")
                                     or (path.name.startswith("test_") and path.suffix == ".py")))
    ]
