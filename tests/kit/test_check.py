"""`python -m grader dev-check` holds on the kit and names each way a copy of it can be broken.

Each test copies the tree into a temporary folder, breaks it in one way, and asserts the exact
one-line problem that `check_kit` reports for it (and nothing else).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.check import check_kit
from grader.manifest import KIT_ROOT, load_exercises

IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache")


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """A copy of the parts of the kit that `check_kit` reads."""
    root = tmp_path / "kit"
    root.mkdir()
    shutil.copy(KIT_ROOT / "exercises.toml", root)
    for folder in ("exercises", "solutions"):
        shutil.copytree(KIT_ROOT / folder, root / folder, ignore=IGNORE)
    for exercise in load_exercises():
        shutil.copytree(exercise.hidden_suite_dir, root / "tests" / exercise.id, ignore=IGNORE)
    return root


def edit(path: Path, change: Callable[[str], str]) -> None:
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, f"the edit changed nothing in {path}"
    path.write_text(after, encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_the_kit_has_no_problem():
    assert check_kit(KIT_ROOT) == []


def test_the_command_passes_on_the_kit():
    completed = subprocess.run([sys.executable, "-m", "grader", "dev-check"], capture_output=True, text=True, cwd=KIT_ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout == "ok: every invariant of the kit holds\n"


def test_a_copy_of_the_kit_has_no_problem(kit: Path):
    assert check_kit(kit) == []


def test_manifest_without_version(kit: Path):
    edit(kit / "exercises.toml", lambda text: text.replace("version = 1\n", ""))
    assert check_kit(kit) == ["exercises.toml: no version field; add `version = 1` at the top"]


def test_manifest_with_an_unknown_version(kit: Path):
    edit(kit / "exercises.toml", lambda text: text.replace("version = 1\n", "version = 2\n"))
    assert check_kit(kit) == ["exercises.toml: version 2 is not one this kit reads; write `version = 1`"]


def test_manifest_with_an_unknown_key(kit: Path):
    edit(kit / "exercises.toml", lambda text: text.replace('module = "bank"\n', 'module = "bank"\ndifficulty = 3\n'))
    assert check_kit(kit) == [
        "exercises.toml: unknown key 'difficulty' in exercise '02_lock';"
        " remove it or use one of: id, module, title, time_limit, points, hints"
    ]


def test_missing_stub(kit: Path):
    (kit / "exercises/04_event/heartbeat.py").unlink()
    assert check_kit(kit) == ["exercises/04_event/heartbeat.py: missing; add the stub module students edit"]


def test_missing_readme(kit: Path):
    (kit / "exercises/04_event/README.md").unlink()
    assert check_kit(kit) == [
        "exercises/04_event/README.md: missing; write the task, the API, what is checked and the hints"
    ]


def test_readme_that_lost_its_hint_markers(kit: Path):
    edit(kit / "exercises/05_queue/README.md", lambda text: text.replace("<!-- END GENERATED: hints -->", ""))
    assert check_kit(kit) == [
        "exercises/05_queue/README.md: the generated hints markers are missing; put"
        " `<!-- BEGIN GENERATED: hints -->` and `<!-- END GENERATED: hints -->` under '## Hints'"
        " and run `python -m grader docs`"
    ]


def test_no_visible_tests(kit: Path):
    (kit / "exercises/01_race_condition/test_counter.py").unlink()
    assert check_kit(kit) == ["exercises/01_race_condition: no visible tests; add a test_*.py students can run"]


def test_missing_reference(kit: Path):
    (kit / "solutions/08_futures/tasks.py").unlink()
    assert check_kit(kit) == ["solutions/08_futures/tasks.py: missing; add the reference solution"]


def test_stub_that_contains_the_answer(kit: Path):
    shutil.copy(kit / "solutions/02_lock/bank.py", kit / "exercises/02_lock/bank.py")
    assert check_kit(kit) == [
        "exercises/02_lock/bank.py: identical to solutions/02_lock/bank.py; the stub must not contain the answer"
    ]


def test_no_hidden_tests(kit: Path):
    for path in (kit / "tests/06_primes").glob("test_*.py"):
        path.unlink()
    assert check_kit(kit) == ["tests/06_primes: no hidden tests; add the grading suite as test_*.py"]


def test_missing_probes(kit: Path):
    (kit / "tests/07_scraper/probes.py").unlink()
    assert check_kit(kit) == ["tests/07_scraper/probes.py: missing; add the probes the hidden tests call"]


def test_too_few_mutants(kit: Path):
    mutants = sorted((kit / "tests/01_race_condition/mutants").glob("*.py"))
    for path in mutants[4:]:
        path.unlink()
    assert check_kit(kit) == [
        "tests/01_race_condition/mutants: 4 mutants; add 1 more (every exercise needs at least 5)"
    ]


def test_hidden_test_in_a_misspelled_group(kit: Path):
    suite = kit / "tests/03_semaphore/test_downloader_graded.py"
    edit(suite, lambda text: text.replace('@pytest.mark.group("correctness")', '@pytest.mark.group("corectness")', 1))
    lines = suite.read_text(encoding="utf-8").splitlines()
    marker = lines.index('@pytest.mark.group("corectness")')
    line, definition = next((n + 1, text) for n, text in enumerate(lines) if n > marker and text.startswith("def "))
    name = definition.split("(")[0].removeprefix("def ")
    assert check_kit(kit) == [
        f"tests/03_semaphore/test_downloader_graded.py:{line}: {name} is in group 'corectness', which"
        " exercises.toml does not list for 03_semaphore; fix the marker or add the group to its points"
    ]


def test_hidden_test_without_a_group(kit: Path):
    suite = kit / "tests/02_lock/test_bank_graded.py"
    edit(suite, lambda text: text.replace('@pytest.mark.group("deadlock")\n', ""))
    definition = next(text for text in suite.read_text(encoding="utf-8").splitlines()
                      if text.startswith("def test_opposite_transfers_never_deadlock"))
    assert check_kit(kit) == [
        f"tests/02_lock/test_bank_graded.py:{line_of(suite, definition)}: test_opposite_transfers_never_deadlock"
        " has no @pytest.mark.group; mark it with one of errors, conservation, deadlock, snapshot, or it earns nothing",
        "exercises.toml: group 'deadlock' of 02_lock has no hidden test; mark a test in tests/02_lock/"
        " with @pytest.mark.group('deadlock') or remove the group",
    ]


def test_manifest_group_without_a_test(kit: Path):
    edit(kit / "exercises.toml", lambda text: text.replace("points = { run_all = 3,", "points = { cancel = 1, run_all = 3,"))
    assert check_kit(kit) == [
        "exercises.toml: group 'cancel' of 08_futures has no hidden test; mark a test in tests/08_futures/"
        " with @pytest.mark.group('cancel') or remove the group"
    ]


def test_mutant_naming_a_test_that_does_not_exist(kit: Path):
    edit(kit / "tests/04_event/mutants/busy_wait.py",
         lambda text: text.replace("Caught by: test_waiting_between_beats_uses_no_cpu", "Caught by: test_waiting_uses_no_cpu"))
    assert check_kit(kit) == [
        "tests/04_event/mutants/busy_wait.py: 'Caught by: test_waiting_uses_no_cpu' names no test of tests/04_event/;"
        " fix the name"
    ]


def test_mutant_naming_a_timing_check_that_does_not_exist(kit: Path):
    edit(kit / "tests/04_event/mutants/busy_wait.py",
         lambda text: text.replace("Caught by: test_waiting_between_beats_uses_no_cpu",
                                   "Caught by: test_waiting_between_beats_uses_no_cpu\nFails the timing check: test_speed"))
    assert check_kit(kit) == [
        "tests/04_event/mutants/busy_wait.py: 'Fails the timing check: test_speed' names no test of tests/04_event/;"
        " fix the name"
    ]


def test_mutant_that_names_no_catcher(kit: Path):
    edit(kit / "tests/04_event/mutants/busy_wait.py",
         lambda text: text.replace("Caught by: test_waiting_between_beats_uses_no_cpu", "Caught by the CPU test."))
    assert check_kit(kit) == [
        "tests/04_event/mutants/busy_wait.py: its docstring lacks a 'Caught by: test_name' line;"
        " name the hidden test that fails it"
    ]


def test_stray_file_in_an_exercise_folder(kit: Path):
    (kit / "exercises/03_semaphore/notes.txt").write_text("my notes\n")
    assert check_kit(kit) == [
        "exercises/03_semaphore/notes.txt: not part of the exercise (students get only downloader.py,"
        " README.md and test_*.py); remove it"
    ]


def test_stray_folder_in_an_exercise_folder(kit: Path):
    (kit / "exercises/03_semaphore/solution").mkdir()
    assert check_kit(kit) == [
        "exercises/03_semaphore/solution: not part of the exercise (students get only downloader.py,"
        " README.md and test_*.py); remove it"
    ]


def test_caches_are_not_stray_files(kit: Path):
    for cache in ("__pycache__", ".pytest_cache"):
        (kit / "exercises/03_semaphore" / cache).mkdir()
        (kit / "exercises/03_semaphore" / cache / "x").write_text("")
    assert check_kit(kit) == []


def test_exercise_folder_missing_from_the_manifest(kit: Path):
    (kit / "exercises/09_barrier").mkdir()
    assert check_kit(kit) == ["exercises/09_barrier: not an exercise of exercises.toml; remove it or add its entry"]


def test_manifest_that_is_not_valid_toml(kit: Path):
    edit(kit / "exercises.toml", lambda text: text.replace('module = "bank"', 'module = bank'))
    [problem] = check_kit(kit)
    assert problem.startswith("exercises.toml: not valid TOML (") and problem.endswith("); fix it")
