"""The exercises of a student repository, as `exercises.json` lists them.

`python -m grader release` writes that file from the kit's manifest (exercises.toml): each
exercise's id, module, title and hints, its visible tests with a SHA-256 of each test file, and
a SHA-256 of the autograding workflow, so that the autograder can tell a student that a file it
relies on was edited. In the kit itself the grader builds the same records from the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

LISTING = "exercises.json"
LISTING_VERSION = 1


class ListingError(ValueError):
    """exercises.json is missing or malformed; the message says what to do."""


@dataclass(frozen=True)
class ExerciseInfo:
    """What the student's side knows of one exercise."""

    id: str
    module: str
    title: str
    hints: tuple[str, ...]
    tests: tuple[str, ...] = ()  # visible test ids, relative to the repository root
    test_files: dict[str, str] = field(default_factory=dict)  # path -> SHA-256 at release

    @property
    def number(self) -> str:
        return self.id.split("_")[0]

    def folder(self, root: Path) -> Path:
        return root / "exercises" / self.id

    def module_file(self, root: Path) -> Path:
        return self.folder(root) / f"{self.module}.py"

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "module": self.module, "title": self.title, "hints": list(self.hints),
                "tests": list(self.tests), "test_files": dict(self.test_files)}


@dataclass(frozen=True)
class Listing:
    """exercises.json: the exercises, and the workflow files with their SHA-256 at release."""

    exercises: tuple[ExerciseInfo, ...]
    workflow_files: dict[str, str] = field(default_factory=dict)
    kit_version: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "about": "written by the kit's `python -m grader release`; the autograder checks the files"
                     " listed here against these SHA-256 sums, so leave it as it is",
            "version": LISTING_VERSION,
            "kit_version": self.kit_version,
            "exercises": [exercise.as_json() for exercise in self.exercises],
            "workflow_files": dict(self.workflow_files),
        }


def read_listing(root: Path) -> Listing:
    """The listing of the repository at root."""
    path = root / LISTING
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ListingError(f"no {LISTING} in {root}: run this command at the top of your exercises"
                           " repository") from None
    except ValueError as error:
        raise ListingError(f"{LISTING} is not valid JSON ({error}): restore it with"
                           f" `git checkout HEAD~ -- {LISTING}` or from the template") from None
    if not isinstance(data, dict) or data.get("version") != LISTING_VERSION:
        raise ListingError(f"{LISTING} is not a version {LISTING_VERSION} listing: restore it from the template")
    try:
        exercises = tuple(
            ExerciseInfo(id=entry["id"], module=entry["module"], title=entry["title"],
                         hints=tuple(entry["hints"]), tests=tuple(entry.get("tests", ())),
                         test_files=dict(entry.get("test_files", {})))
            for entry in data["exercises"])
    except (KeyError, TypeError) as error:
        raise ListingError(f"{LISTING} lacks {error} for an exercise: restore it from the template") from None
    return Listing(exercises, dict(data.get("workflow_files", {})), str(data.get("kit_version", "")))


def find_exercise(exercises: Sequence[ExerciseInfo], name: str) -> ExerciseInfo:
    """The exercise called `name`: its id ("03_semaphore") or its number ("03" or "3")."""
    for exercise in exercises:
        if name in (exercise.id, exercise.number, exercise.number.lstrip("0")):
            return exercise
    known = ", ".join(exercise.id for exercise in exercises)
    raise KeyError(f"no exercise {name!r}; the exercises are: {known}")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, with line endings made \\n (git may check out \\r\\n on Windows)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()
