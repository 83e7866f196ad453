"""Which students the grader finds in the layouts instructors hand it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch.discover import SubmissionsError, classroom_prefix, discover, student_name


def repository(path: Path) -> Path:
    (path / "exercises").mkdir(parents=True)
    return path


def students(root: Path, **kwargs) -> list[tuple[str, str]]:
    return [(s.student, s.path.relative_to(root).as_posix()) for s in discover(root, **kwargs)]


def test_a_folder_of_repositories_is_a_class(tmp_path):
    for name in ("bob", "alice"):
        repository(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a student")
    assert students(tmp_path) == [("alice", "alice"), ("bob", "bob")]


def test_github_classroom_clones_are_named_by_login(tmp_path):
    for login in ("alice", "bob-smith", "carol"):
        repository(tmp_path / f"concurrency-hw-{login}")
    assert [s.student for s in discover(tmp_path)] == ["alice", "bob-smith", "carol"]


def test_zip_files_are_students(tmp_path):
    for name in ("alice", "bob"):
        with zipfile.ZipFile(tmp_path / f"{name}.zip", "w") as archive:
            archive.writestr("repo-main/exercises/01_race_condition/counter.py", "x = 1\n")
    assert students(tmp_path) == [("alice", "alice.zip"), ("bob", "bob.zip")]


def test_one_repository_is_one_student(tmp_path):
    assert students(repository(tmp_path / "my-repo")) == [("my-repo", ".")]


def test_nbgraders_submitted_tree(tmp_path):
    repository(tmp_path / "submitted" / "alice" / "concurrency")
    repository(tmp_path / "submitted" / "bob" / "concurrency")
    (tmp_path / "submitted" / "carol").mkdir()  # submitted nothing: still a row, of zeros
    found = discover(tmp_path)
    assert [(s.student, s.path.relative_to(tmp_path).parts[:3]) for s in found] == [
        ("alice", ("submitted", "alice", "concurrency")),
        ("bob", ("submitted", "bob", "concurrency")),
        ("carol", ("submitted", "carol", "(no assignment submitted)")),
    ]


def test_nbgrader_with_several_assignments_needs_one_chosen(tmp_path):
    repository(tmp_path / "submitted" / "alice" / "hw1")
    repository(tmp_path / "submitted" / "alice" / "hw2")
    with pytest.raises(SubmissionsError, match="--assignment"):
        discover(tmp_path)
    assert [s.path.name for s in discover(tmp_path, assignment="hw2")] == ["hw2"]


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_nothing_to_grade_is_a_usage_error(tmp_path, make):
    with pytest.raises(SubmissionsError, match="give"):
        discover(make(tmp_path))


def test_names_are_made_safe_for_folders():
    assert student_name("../../etc") == "_.._etc"
    assert student_name("ali ce/x") == "ali_ce_x"
    assert student_name("") == "_"


def test_two_entries_that_become_one_student_are_refused(tmp_path):
    repository(tmp_path / "al ice")
    repository(tmp_path / "al_ice")
    with pytest.raises(SubmissionsError, match="rename one"):
        discover(tmp_path)


def test_classroom_prefix_needs_a_shared_dash_prefix():
    assert classroom_prefix(["hw-a", "hw-b"]) == "hw-"
    assert classroom_prefix(["alice", "alan"]) == ""
    assert classroom_prefix(["hw-a"]) == ""
    assert classroom_prefix(["hw-a", "hw-"]) == ""  # the prefix would leave a name empty
