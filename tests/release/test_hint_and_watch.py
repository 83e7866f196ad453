"""The student's `hint` (one level at a time, remembered in .hints-seen.json) and the loop of
`watch` (which changes rerun which exercise), without running any test of an exercise."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

import grader.cli.hint
from grader.cli import main as grader_main
from grader.manifest import load_exercises
from student_runtime.autograde import RunRecord
from student_runtime.cli import main as student_main
from student_runtime.cli import watch as watch_command
from student_runtime.exercises import ExerciseInfo, Listing
from student_runtime.progress import ExerciseRun, Workspace

COUNTER = ExerciseInfo("01_race_condition", "counter", "Race conditions", ("gentle", "firmer", "explicit"))
BANK = ExerciseInfo("02_lock", "bank", "Locks", ("only one",))


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    (tmp_path / "exercises.json").write_text(json.dumps(Listing((COUNTER, BANK)).as_json()), encoding="utf-8")
    return tmp_path


def hint(repository: Path, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert student_main(["hint", name, "--root", str(repository)]) == 0
    return capsys.readouterr().out


def test_hints_come_one_level_at_a_time_and_say_which_was_the_last(repository, capsys):
    assert hint(repository, "01", capsys) == (
        "Hint 1 of 3 for 01_race_condition:\ngentle\n"
        "`python -m student_runtime hint 01` again gives the next one.\n")
    assert json.loads((repository / ".hints-seen.json").read_text(encoding="utf-8")) == {"01_race_condition": 1}
    assert hint(repository, "1", capsys).startswith("Hint 2 of 3 for 01_race_condition:\nfirmer\n")
    last = "Hint 3 of 3 for 01_race_condition:\nexplicit\nThat was the last hint.\n"
    assert hint(repository, "01_race_condition", capsys) == last
    assert hint(repository, "01", capsys) == last  # and stays there
    assert json.loads((repository / ".hints-seen.json").read_text(encoding="utf-8")) == {"01_race_condition": 3}


def test_each_exercise_keeps_its_own_level(repository, capsys):
    hint(repository, "01", capsys)
    assert hint(repository, "02", capsys) == "Hint 1 of 1 for 02_lock:\nonly one\nThat was the last hint.\n"
    assert hint(repository, "01", capsys).startswith("Hint 2 of 3")
    assert json.loads((repository / ".hints-seen.json").read_text(encoding="utf-8")) == {
        "01_race_condition": 2, "02_lock": 1}


@pytest.mark.parametrize("damaged", ["{not json", "[1, 2]", '{"01_race_condition": "two"}'])
def test_a_damaged_state_file_starts_again_from_the_first_hint(repository, capsys, damaged):
    (repository / ".hints-seen.json").write_text(damaged, encoding="utf-8")
    assert hint(repository, "01", capsys).startswith("Hint 1 of 3 for 01_race_condition:\ngentle\n")


def test_an_unknown_exercise_or_a_missing_listing_is_a_usage_error(repository, tmp_path, capsys):
    assert student_main(["hint", "09", "--root", str(repository)]) == 2
    assert "no exercise '09'; the exercises are: 01_race_condition, 02_lock" in capsys.readouterr().err
    assert not (repository / ".hints-seen.json").exists()
    assert student_main(["hint", "01", "--root", str(tmp_path / "elsewhere")]) == 2
    assert "no exercises.json" in capsys.readouterr().err


def test_the_kits_hint_command_gives_the_manifests_hints(monkeypatch, tmp_path, capsys):
    kit = grader.cli.hint.kit_workspace()
    monkeypatch.setattr(grader.cli.hint, "kit_workspace", lambda: replace(kit, root=tmp_path))
    first = load_exercises()[0]
    assert grader_main(["hint", "01"]) == 0
    assert capsys.readouterr().out == (f"Hint 1 of {len(first.hints)} for {first.id}:\n{first.hints[0]}\n"
                                       "`python -m grader hint 01` again gives the next one.\n")
    assert json.loads((tmp_path / ".hints-seen.json").read_text(encoding="utf-8")) == {first.id: 1}


# -- watch, with a list of change batches in place of the file watcher -------------------------

def run_of(exercise: ExerciseInfo, passing: bool) -> ExerciseRun:
    test = f"exercises/{exercise.id}/test_it.py::test_it"
    result = {"test": test, "status": "pass" if passing else "fail", "message": "" if passing else "wrong"}
    return ExerciseRun(exercise, RunRecord(collected=[test], results={test: result}))


@pytest.fixture
def runs(monkeypatch, repository) -> list[str]:
    """The exercises `watch` ran, in order; 01 passes from its third run on, 02 never does."""
    ran: list[str] = []

    def fake_run_one(workspace: Workspace, exercise: ExerciseInfo, out: IO[str]) -> ExerciseRun:
        ran.append(exercise.id)
        return run_of(exercise, exercise is COUNTER and ran.count(exercise.id) >= 3)

    monkeypatch.setattr(watch_command, "run_one", fake_run_one)
    return ran


def change(repository: Path, exercise: ExerciseInfo, name: str | None = None) -> set[tuple[object, str]]:
    path = exercise.folder(repository) / (name or f"{exercise.module}.py")
    return {(2, str(path))}


def test_watch_reruns_an_exercise_when_its_module_changes_and_nothing_else(repository, runs, capsys):
    workspace = Workspace(repository, (COUNTER, BANK))
    batches = [change(repository, COUNTER), change(repository, COUNTER, "test_counter.py"),
               change(repository, BANK), change(repository, COUNTER) | change(repository, BANK, "notes.py")]
    watch_command.watch(workspace, COUNTER, batches, sys.stdout)
    assert runs == ["01_race_condition"] * 3
    out = capsys.readouterr().out
    assert out.count("Watching exercises/01_race_condition/counter.py: save it to run the tests again;") == 3
    assert "01_race_condition: 0 of 1 visible tests pass. What failed and why:\n- test_it: wrong\n" in out
    assert "01_race_condition: all 1 visible tests pass.\n" in out
    assert "On to" not in out  # an exercise named on the command line is the one watched


def test_watch_without_an_exercise_moves_on_once_one_passes(repository, runs, capsys):
    workspace = Workspace(repository, (COUNTER, BANK))
    batches = [change(repository, BANK), change(repository, COUNTER), change(repository, COUNTER),
               change(repository, COUNTER), change(repository, BANK)]
    watch_command.watch(workspace, COUNTER, batches, sys.stdout, follow=True)
    # 01 runs at the start and after its 2 saves, then passes; 02 runs at once, then after its save
    assert runs == ["01_race_condition"] * 3 + ["02_lock"] * 2
    out = capsys.readouterr().out
    assert "\nOn to 02_lock.\n" in out and out.rstrip().endswith("Watching exercises/02_lock/bank.py: save it to"
                                                                  " run the tests again; Ctrl-C stops.")


def test_watch_ends_after_the_last_exercise_passes(repository, monkeypatch, capsys):
    monkeypatch.setattr(watch_command, "run_one", lambda workspace, exercise, out: run_of(exercise, True))
    never_asked = iter(())  # watching ends before it waits for a change
    watch_command.watch(Workspace(repository, (COUNTER, BANK)), COUNTER, never_asked,
                        sys.stdout, follow=True)
    assert capsys.readouterr().out.endswith("That was the last exercise: every one passes its visible tests.\n")
