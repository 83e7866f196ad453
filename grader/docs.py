"""Generated parts of the documentation, rendered from the manifest.

Hand-written Markdown holds `<!-- BEGIN GENERATED: name -->` / `<!-- END GENERATED: name -->`
markers; `python -m grader docs` fills them in and `--check` (run by the test suite) fails
when a file is out of date or has lost the markers of a block it must hold, so the exercise
list and the hints are never maintained by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from grader.manifest import KIT_ROOT, Exercise, load_exercises

_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n).*?(<!-- END GENERATED: (?P=name) -->)", re.S)


def render_hints(exercise: Exercise) -> str:
    return "".join(f"{number}. {hint}\n" for number, hint in enumerate(exercise.hints, start=1))


def render_exercise_table(exercises: tuple[Exercise, ...]) -> str:
    rows = ["| Exercise | File you edit | Topic | Points |", "| --- | --- | --- | --- |"]
    for exercise in exercises:
        rows.append(
            f"| [`{exercise.id}`](exercises/{exercise.id}/README.md) | `{exercise.module}.py`"
            f" | {exercise.title} | {exercise.max_points} |"
        )
    return "\n".join(rows) + "\n"


def generated_blocks(path: Path, root: Path = KIT_ROOT) -> dict[str, str]:
    """What each generated block of the file at path, in the kit at root, should contain."""
    exercises = load_exercises(root / "exercises.toml")
    if path == root / "README.md":
        return {"exercises": render_exercise_table(exercises)}
    for exercise in exercises:
        if path == exercise.stub_dir / "README.md":
            return {"hints": render_hints(exercise)}
    return {}


def missing_blocks(text: str, names: Iterable[str]) -> list[str]:
    """The names among `names` whose BEGIN/END markers the text does not hold."""
    present = {match.group("name") for match in _BLOCK.finditer(text)}
    return [name for name in names if name not in present]


def documented_files(root: Path = KIT_ROOT) -> list[Path]:
    exercises = load_exercises(root / "exercises.toml")
    return [root / "README.md"] + [exercise.stub_dir / "README.md" for exercise in exercises]


def render(path: Path, root: Path = KIT_ROOT) -> str:
    blocks = generated_blocks(path, root)
    text = path.read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            raise ValueError(f"{path}: unknown generated block {name!r}")
        return match.group(1) + blocks[name] + match.group(3)

    return _BLOCK.sub(fill, text)


def files_missing_markers(root: Path = KIT_ROOT) -> list[Path]:
    """Files that lost the markers of a generated block: only a person can put them back."""
    return [
        path for path in documented_files(root)
        if path.exists() and missing_blocks(path.read_text(encoding="utf-8"), generated_blocks(path, root))
    ]


def stale_files(root: Path = KIT_ROOT) -> list[Path]:
    """Files whose generated blocks are out of date or whose markers are missing."""
    lost = files_missing_markers(root)
    return [
        path for path in documented_files(root)
        if path.exists() and (path in lost or render(path, root) != path.read_text(encoding="utf-8"))
    ]


def write_all(root: Path = KIT_ROOT) -> list[Path]:
    """Regenerate every out-of-date block; files missing markers are left as they are."""
    lost = files_missing_markers(root)
    changed = [path for path in stale_files(root) if path not in lost]
    for path in changed:
        path.write_text(render(path, root), encoding="utf-8")
    return changed
