"""Fixtures of the batch grader's tests: a real nbgrader course and its own export."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def venv_path() -> str:
    """PATH with the venv's bin folder first (alembic, which nbgrader runs, is there), as when
    the venv is activated."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture
def venv_on_path(monkeypatch: pytest.MonkeyPatch, venv_path: str) -> None:
    monkeypatch.setenv("PATH", venv_path)


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, venv_on_path: None) -> Path:
    """A course folder with the nbgrader_config.py of a real course, shielded from the user's own config."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    (course_dir / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course_dir)!r}\n"
        f"c.CourseDirectory.course_id = 'concurrency'\n", encoding="utf-8")
    return course_dir


@pytest.fixture
def export() -> Callable[[Path], dict[tuple[str, str], dict[str, str]]]:
    """nbgrader's own `nbgrader export`, run in a course folder."""
    return _export


def _export(course_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """nbgrader's own CSV export of course_dir's gradebook, by (assignment, student)."""
    subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course_dir, check=True,
                   capture_output=True, timeout=120)
    with open(course_dir / "grades.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    by_key = {(row["assignment"], row["student_id"]): row for row in rows}
    assert len(by_key) == len(rows), f"nbgrader exported a student twice for one assignment: {rows}"
    return by_key


