"""Only the files the manifest names as the student's are taken, and never through a link."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from grader.batch.discover import Submission
from grader.batch.stage import MAX_FILE_BYTES, collect, git_commit
from grader.manifest import get_exercise

RACE, LOCK = get_exercise("01_race_condition"), get_exercise("02_lock")


def student_file(root: Path, exercise=RACE, text: str = "VALUE = 1\n") -> Path:
    path = exercise.module_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_takes_the_named_files_and_nothing_else(tmp_path):
    student_file(tmp_path)
    (tmp_path / "conftest.py").write_text("raise SystemExit")
    (tmp_path / "exercises" / RACE.id / "test_counter.py").write_text("def test(): pass")
    staged = collect(Submission("s", tmp_path), [RACE, LOCK])
    assert staged.files == {RACE.id: b"VALUE = 1\n"}
    assert "exercises/02_lock/bank.py" in staged.problems[LOCK.id]
    written = staged.write([RACE, LOCK], tmp_path / "stage")
    assert sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file()) == [
        "exercises/01_race_condition/counter.py"]


def test_a_loose_module_file_at_the_top_counts(tmp_path):
    (tmp_path / "counter.py").write_text("LOOSE = 1\n")
    assert collect(Submission("s", tmp_path), [RACE]).files == {RACE.id: b"LOOSE = 1\n"}


def test_a_symbolic_link_is_refused(tmp_path):
    target = tmp_path / "elsewhere.py"
    target.write_text("STOLEN = 1\n")
    link = RACE.module_file(tmp_path / "student")
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    staged = collect(Submission("s", tmp_path / "student"), [RACE])
    assert staged.files == {} and "symbolic link" in staged.problems[RACE.id]


def test_a_linked_folder_is_refused(tmp_path):
    student_file(tmp_path / "other")
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "exercises").symlink_to(tmp_path / "other" / "exercises")
    staged = collect(Submission("s", tmp_path / "student"), [RACE])
    assert staged.files == {} and "symbolic link" in staged.problems[RACE.id]


def test_a_huge_file_is_refused(tmp_path):
    student_file(tmp_path, text="#" * (MAX_FILE_BYTES + 1))
    assert "larger than" in collect(Submission("s", tmp_path), [RACE]).problems[RACE.id]


def test_zip_files_are_read_without_extracting(tmp_path):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../evil/exercises/02_lock/bank.py", "ESCAPED = 1\n")
        zipped.writestr("repo-main/exercises/01_race_condition/counter.py", "ZIPPED = 1\n")
        zipped.writestr("repo-main/conftest.py", "raise SystemExit")
    staged = collect(Submission("alice", archive), [RACE, LOCK])
    # Members are only read, never written out, so a "../" name lands nowhere.
    assert staged.files == {RACE.id: b"ZIPPED = 1\n", LOCK.id: b"ESCAPED = 1\n"}
    assert not (tmp_path.parent / "evil").exists()


def test_a_broken_zip_gives_a_reason(tmp_path):
    (tmp_path / "bob.zip").write_bytes(b"not a zip")
    assert "not a readable .zip" in collect(Submission("bob", tmp_path / "bob.zip"), [RACE]).problems[RACE.id]


def test_the_fingerprint_follows_the_students_files_and_the_kit(tmp_path):
    path = student_file(tmp_path)
    first = collect(Submission("s", tmp_path), [RACE]).fingerprint("kit-1")
    (tmp_path / "notes.md").write_text("changes nothing graded")
    assert collect(Submission("s", tmp_path), [RACE]).fingerprint("kit-1") == first
    assert collect(Submission("s", tmp_path), [RACE]).fingerprint("kit-2") != first
    path.write_text("VALUE = 2\n")
    assert collect(Submission("s", tmp_path), [RACE]).fingerprint("kit-1") != first


def test_the_commit_is_read_from_the_repository(tmp_path):
    student_file(tmp_path)
    git = ["git", "-c", "user.name=s", "-c", "user.email=s@example.com", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "work"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert git_commit(tmp_path) == head
    subprocess.run([*git, "pack-refs", "--all"], check=True)  # the branch moves into packed-refs
    assert git_commit(tmp_path) == head
    assert git_commit(tmp_path / "exercises") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this OS")
def test_a_named_pipe_is_not_read(tmp_path):
    path = RACE.module_file(tmp_path)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # opening it for reading would block forever if the grader tried
    staged = collect(Submission("s", tmp_path), [RACE])
    assert "not a regular file" in staged.problems[RACE.id]
