"""`python -m grader grade`, end to end: a small class graded into every output it promises.

Only 01_race_condition is graded (its suite takes about 2 s), from the kit's own files: the
reference earns 10, the untouched stub 0, whatever the layout the class comes in.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.cli import main
from grader.manifest import get_exercise

RACE = get_exercise("01_race_condition")
REFERENCE, STUB = RACE.module_file(), RACE.stub_dir / f"{RACE.module}.py"


def student(root: Path, name: str, source: Path) -> Path:
    path = RACE.module_file(root / name)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, path)
    return root / name


def grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


def grade(*arguments: str | Path) -> int:
    return main(["grade", *map(str, arguments), "--exercise", RACE.id])


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GitHub Classroom clones (`hw-<login>`) and one student handing in a .zip file."""
    root = tmp_path_factory.mktemp("class")
    student(root, "hw-alice", REFERENCE)
    student(root, "hw-bob", STUB)
    (root / "hw-carol").mkdir()  # an empty repository: a row of zeros and the reason
    with zipfile.ZipFile(root / "hw-dave.zip", "w") as archive:
        archive.write(REFERENCE, f"hw-dave-main/exercises/{RACE.id}/{RACE.module}.py")
    return root


@pytest.fixture(scope="module")
def graded(classroom: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert grade(classroom, "--out", out, "--gradescope") == 0
    return out


def test_grades_csv_has_a_row_per_student(graded):
    assert {name: (row[RACE.id], row["total"]) for name, row in grades(graded).items()} == {
        "alice": ("10", "10"), "bob": ("0", "0"), "carol": ("0", "0"), "dave": ("10", "10")}


def test_results_json_lists_every_hidden_test(graded, classroom):
    results = json.loads((graded / "alice" / "results.json").read_text())
    assert results["student"] == "alice" and results["submission"] == str((classroom / "hw-alice").resolve())
    assert (results["points"], results["max_points"]) == (10, 10)
    names = {test["name"] for test in results["tests"]}
    assert "test_threads_run_at_the_same_time" in names and len(names) == len(results["tests"]) >= 5
    assert all(test["status"] == "pass" and test["score"] == test["max_score"] for test in results["tests"])
    assert results["kit_version"] and results["python"] and results["graded_at"].endswith("+00:00")


def test_feedback_says_what_failed_and_gives_a_hint(graded):
    feedback = (graded / "bob" / "feedback.md").read_text()
    assert "**Total: 0/10**" in feedback
    assert "NotImplementedError" in feedback or "not implemented yet" in feedback
    assert f"Next hint: {RACE.hints[0]}" in feedback


def test_an_empty_folder_gets_zeros_and_the_reason(graded):
    results = json.loads((graded / "carol" / "results.json").read_text())
    assert results["points"] == 0
    assert results["problem"].startswith("nothing to grade: no file exercises/01_race_condition/counter.py")
    assert "0 points: no file exercises/01_race_condition/counter.py" in (graded / "carol" / "feedback.md").read_text()


def test_gradescope_results_are_written_beside(graded):
    gradescope = json.loads((graded / "dave" / "gradescope.json").read_text())
    assert gradescope["score"] == 10 and all(test["status"] == "passed" for test in gradescope["tests"])


def test_the_nbgrader_export_agrees_with_grades_csv(classroom, tmp_path, course, export):
    pytest.importorskip("nbgrader", reason="nbgrader is the grader extra: pip install -e '.[grader]'")
    out = tmp_path / "out"
    assert grade(classroom, "--out", out, "--nbgrader", course) == 0
    exported = {student: row for (assignment, student), row in export(course).items()}
    assert {name: float(row["score"]) for name, row in exported.items()} == \
        {name: float(row["total"]) for name, row in grades(out).items()}
    assert {float(row["max_score"]) for row in exported.values()} == {RACE.max_points}
    assert {assignment for assignment, _ in export(course)} == {"concurrency"}


def test_unchanged_students_are_not_regraded(classroom, graded, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(graded, out)
    before = json.loads((out / "alice" / "results.json").read_text())["graded_at"]
    assert grade(classroom, "--out", out) == 0
    assert "graded 0 student(s), 4 unchanged" in capsys.readouterr().out
    shutil.copy(STUB, RACE.module_file(classroom / "hw-alice"))
    try:
        assert grade(classroom, "--out", out) == 0
        assert "graded 1 student(s), 3 unchanged" in capsys.readouterr().out
        assert grades(out)["alice"]["total"] == "0"
    finally:
        shutil.copy(REFERENCE, RACE.module_file(classroom / "hw-alice"))
    assert grade(classroom, "--out", out, "--force") == 0
    assert "graded 4 student(s), 0 unchanged" in capsys.readouterr().out
    assert json.loads((out / "alice" / "results.json").read_text())["graded_at"] >= before


def test_shards_merge_into_the_whole_class(classroom, graded, tmp_path):
    shards = [tmp_path / f"shard{k}" for k in (1, 2)]
    for k, shard in enumerate(shards, start=1):
        assert grade(classroom, "--out", shard, "--shard", f"{k}/2") == 0
    assert {len(grades(shard)) for shard in shards} == {2}
    assert not set(grades(shards[0])) & set(grades(shards[1]))
    assert main(["merge", *map(str, shards), "--out", str(tmp_path / "all")]) == 0
    assert grades(tmp_path / "all") == grades(graded)
    assert sorted(p.name for p in (tmp_path / "all").iterdir() if p.is_dir()) == ["alice", "bob", "carol", "dave"]


def test_a_missing_class_folder_is_one_clear_line(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no such folder" in error
    assert not (tmp_path / "out").exists()


def test_a_wrong_shard_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--shard", "3/2"])
    assert "K must be between 1 and N" in capsys.readouterr().err


def test_a_failure_of_the_grader_costs_one_row_not_the_class(classroom, tmp_path, monkeypatch, capsys):
    from grader.batch import run

    real = run.run_hidden_suites

    def failing_for_bob(exercises, submission=None, **kwargs):
        if submission is not None and RACE.module_file(submission).read_bytes() == STUB.read_bytes():
            raise KeyError("a bug of the grader")
        return real(exercises, submission, **kwargs)

    monkeypatch.setattr(run, "run_hidden_suites", failing_for_bob)
    assert grade(classroom, "--out", tmp_path / "out") == 1  # the instructor must regrade bob
    assert {name: row["total"] for name, row in grades(tmp_path / "out").items()} == {
        "alice": "10", "bob": "0", "carol": "0", "dave": "10"}
    assert "failures of the grader itself: 1 (bob: regrade them)" in capsys.readouterr().out
    results = json.loads((tmp_path / "out" / "bob" / "results.json").read_text())
    assert "a bug of the grader" in results["problem"] and results["fingerprint"] == ""
