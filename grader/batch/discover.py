"""Find the students in what an instructor hands the grader.

Recognised layouts of SUBMISSIONS:
- a single student repository (it holds `exercises/`): one student, named after the folder;
- nbgrader's course layout: `submitted/<student>/<assignment>/` (SUBMISSIONS is the course
  folder or its `submitted/`);
- a folder with one folder or `.zip` file per student. GitHub Classroom clones are named
  `<assignment>-<login>`: when every entry shares a prefix that ends in "-", the prefix is
  dropped and the login is the student.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


class SubmissionsError(ValueError):
    """SUBMISSIONS cannot be read as a class; the message says what to give instead."""


@dataclass(frozen=True)
class Submission:
    student: str  # safe as a folder name
    path: Path  # the student's repository folder, or a .zip file of it


def discover(root: Path, assignment: str | None = None) -> list[Submission]:
    """The students of `root`, sorted by name. Raises SubmissionsError for a missing or
    unreadable root, or one that holds no student."""
    root = Path(root)
    if root.is_file() and root.suffix == ".zip":
        return [Submission(student_name(root.stem), root)]
    if not root.is_dir():
        raise SubmissionsError(f"{root}: no such folder; give a folder of student repositories"
                               " (or .zip files), one student repository, or nbgrader's course folder")
    if (root / "exercises").is_dir():
        return [Submission(student_name(root.resolve().name), root)]
    submitted = root if root.name == "submitted" else root / "submitted"
    if submitted.is_dir():
        return _nbgrader_submissions(submitted, assignment)
    entries = [entry for entry in _listing(root)
               if not entry.name.startswith(".") and (entry.is_dir() or entry.suffix == ".zip")]
    if not entries:
        raise SubmissionsError(f"{root}: no student folder or .zip file inside; give the folder that holds"
                               " one folder (or .zip file) per student")
    names = [entry.stem if entry.suffix == ".zip" else entry.name for entry in entries]
    prefix = classroom_prefix(names)
    return _unique([Submission(student_name(name[len(prefix):]), entry) for name, entry in zip(names, entries)])


def classroom_prefix(names: list[str]) -> str:
    """The `<assignment>-` prefix GitHub Classroom gives every clone, or "" when there is none."""
    if len(names) < 2:
        return ""
    common = os.path.commonprefix(names)
    prefix = common[: common.rfind("-") + 1]
    return prefix if all(len(name) > len(prefix) for name in names) else ""


def student_name(raw: str) -> str:
    """A folder-safe student id: letters, digits, '.', '_' and '-' kept, anything else '_'."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", raw).lstrip(".")
    return name or "_"


def _nbgrader_submissions(submitted: Path, assignment: str | None) -> list[Submission]:
    found = []
    for student in _listing(submitted):
        if not student.is_dir():
            continue
        assignments = [folder for folder in _listing(student) if folder.is_dir()]
        if assignment is not None:
            assignments = [folder for folder in assignments if folder.name == assignment]
        if len(assignments) > 1:
            raise SubmissionsError(f"{student}: several assignments ({', '.join(a.name for a in assignments)});"
                                   " choose one with --assignment NAME")
        # A student without the assignment still gets a row (of zeros, with the reason).
        chosen = assignments[0] if assignments else student / (assignment or "(no assignment submitted)")
        found.append(Submission(student_name(student.name), chosen))
    if not found:
        raise SubmissionsError(f"{submitted}: no student folder inside")
    return _unique(found)


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as error:
        raise SubmissionsError(f"{folder}: cannot be read ({error.strerror}); check its permissions") from error


def _unique(submissions: list[Submission]) -> list[Submission]:
    seen: dict[str, Submission] = {}
    for submission in submissions:
        if submission.student in seen:
            raise SubmissionsError(f"{seen[submission.student].path} and {submission.path} are both student"
                                   f" {submission.student!r}; rename one")
        seen[submission.student] = submission
    return sorted(seen.values(), key=lambda submission: submission.student)
