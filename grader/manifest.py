"""The exercise manifest, `exercises.toml`: the single source of exercise metadata.

Everything that needs to know which exercises exist (the pytest plugin, the grader, the
benchmark, the generated documentation) asks this module instead of keeping its own list.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

KIT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = KIT_ROOT / "exercises.toml"
MANIFEST_VERSION = 1
DEFAULT_ASSIGNMENT = "concurrency"
_EXERCISE_KEYS = ("id", "module", "title", "time_limit", "points", "hints")

_CAUGHT_BY = re.compile(r"^Caught by: (\w+)\s*$", re.M)
_TIMING_CHECK = re.compile(r"^Fails the timing check: (\w+)\s*$", re.M)


@dataclass(frozen=True)
class Mutant:
    """A plausible wrong solution kept beside a hidden suite, which must reject it.

    Its docstring names the hidden test that fails it in every run ("Caught by: test_x") and
    may name timing checks that fail it whenever the machine is quiet enough to measure
    ("Fails the timing check: test_y"); the benchmark measures those with a noisy neighbour.
    """

    path: Path
    caught_by: str | None
    timing_checks: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path.stem

    @classmethod
    def read(cls, path: Path) -> Mutant:
        text = path.read_text(encoding="utf-8")
        caught_by = _CAUGHT_BY.search(text)
        return cls(path, caught_by.group(1) if caught_by else None, tuple(_TIMING_CHECK.findall(text)))


class ManifestError(ValueError):
    """exercises.toml is malformed; the message names the file and what to change."""


@dataclass(frozen=True)
class Exercise:
    id: str
    module: str
    title: str
    time_limit: float
    points: dict[str, int]
    hints: tuple[str, ...]
    root: Path = KIT_ROOT  # the kit folder holding exercises/, solutions/ and tests/

    @property
    def max_points(self) -> int:
        return sum(self.points.values())

    @property
    def stub_dir(self) -> Path:
        return self.root / "exercises" / self.id

    @property
    def reference_dir(self) -> Path:
        return self.root / "solutions" / self.id

    @property
    def hidden_suite_dir(self) -> Path:
        return self.root / "tests" / self.id

    @property
    def mutants_dir(self) -> Path:
        return self.hidden_suite_dir / "mutants"

    def mutants(self) -> tuple[Mutant, ...]:
        return tuple(Mutant.read(path) for path in sorted(self.mutants_dir.glob("*.py")))

    def module_file(self, submission: Path | None = None) -> Path:
        """The student's file inside a submission (a student repository), or the reference."""
        if submission is None:
            return self.reference_dir / f"{self.module}.py"
        return Path(submission) / "exercises" / self.id / f"{self.module}.py"


@lru_cache(maxsize=None)
def load_exercises(path: Path = MANIFEST_PATH) -> tuple[Exercise, ...]:
    """The exercises of the manifest at path, whose folder is the kit root.

    Raises ManifestError, naming the file and the fix, for invalid TOML, a missing or unknown
    version, an unknown or missing key, or a module name used twice.
    """
    path = Path(path)
    with open(path, "rb") as file:
        try:
            manifest = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ManifestError(f"{path.name}: not valid TOML ({error}); fix it") from error
    if "version" not in manifest:
        raise ManifestError(f"{path.name}: no version field; add `version = {MANIFEST_VERSION}` at the top")
    if manifest["version"] != MANIFEST_VERSION:
        raise ManifestError(f"{path.name}: version {manifest['version']!r} is not one this kit reads;"
                            f" write `version = {MANIFEST_VERSION}`")
    _reject_unknown_keys(path.name, "the top level", manifest, ("version", "assignment", "exercise"))
    exercises = []
    for number, entry in enumerate(manifest.get("exercise", []), start=1):
        where = f"exercise {entry.get('id', number)!r}"
        _reject_unknown_keys(path.name, where, entry, _EXERCISE_KEYS)
        missing = [key for key in _EXERCISE_KEYS if key not in entry]
        if missing:
            raise ManifestError(f"{path.name}: {where} lacks {', '.join(missing)}; add them")
        exercises.append(Exercise(
            id=entry["id"],
            module=entry["module"],
            title=entry["title"],
            time_limit=float(entry["time_limit"]),
            points=dict(entry["points"]),
            hints=tuple(entry["hints"]),
            root=path.parent,
        ))
    modules = [exercise.module for exercise in exercises]
    if len(set(modules)) != len(modules):
        raise ManifestError(f"{path.name}: module names must be unique across exercises: {modules}; rename one")
    return tuple(exercises)


def kit_version() -> str:
    """The installed kit's version (pyproject.toml's)."""
    try:
        return metadata.version("concurrency-kit")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def assignment_name(path: Path = MANIFEST_PATH) -> str:
    """The assignment the exercises make up together, as gradebooks name it."""
    with open(path, "rb") as file:
        return str(tomllib.load(file).get("assignment", DEFAULT_ASSIGNMENT))


def _reject_unknown_keys(file_name: str, where: str, table: dict[str, object], known: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ManifestError(f"{file_name}: unknown key {unknown[0]!r} in {where};"
                            f" remove it or use one of: {', '.join(known)}")


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id, or with this number ("03" or "3" for "03_semaphore")."""
    for exercise in load_exercises():
        if exercise_id in (exercise.id, exercise.id.split("_")[0], exercise.id.split("_")[0].lstrip("0")):
            return exercise
    known = ", ".join(exercise.id for exercise in load_exercises())
    raise KeyError(f"no exercise {exercise_id!r} in {MANIFEST_PATH.name}; known: {known}")


def exercise_for_path(path: Path) -> Exercise | None:
    """The exercise whose folder (under exercises/, solutions/ or tests/) contains path."""
    ids = {exercise.id for exercise in load_exercises()}
    for part in Path(path).resolve().parts:
        if part in ids:
            return get_exercise(part)
    return None
