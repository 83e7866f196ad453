"""Generated parts of the documentation, rendered from the manifest.

Hand-written Markdown holds `<!-- BEGIN GENERATED: name -->` / `<!-- END GENERATED: name -->`
markers; `python -m grader docs` fills them in and `--check` (run by the test suite) fails
when a file is out of date, so the exercise list is never maintained by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.manifest import KIT_ROOT, Exercise, load_exercises

_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n).*?(<!-- END GENERATED: (?P=name) -->)", re.S)


def render_hints(exercise: Exercise) -> str:
    return "".join(f"{number}. {hint}\n" for number, hint in enumerate(exercise.hints, start=1))


def render_exercise_table() -> str:
    rows = ["| Exercise | File you edit | Topic | Points |", "| --- | --- | --- | --- |"]
    for exercise in load_exercises():
        rows.append(
            f"| [`{exercise.id}`](exercises/{exercise.id}/README.md) | `{exercise.module}.py`"
            f" | {exercise.title} | {exercise.max_points} |"
        )
    return "\n".join(rows) + "\n"


def generated_blocks(path: Path) -> dict[str, str]:
    """What each generated block of the file at path should contain."""
    if path == KIT_ROOT / "README.md":
        return {"exercises": render_exercise_table()}
    for exercise in load_exercises():
        if path == exercise.stub_dir / "README.md":
            return {"hints": render_hints(exercise)}
    return {}


def documented_files() -> list[Path]:
    return [KIT_ROOT / "README.md"] + [exercise.stub_dir / "README.md" for exercise in load_exercises()]


def render(path: Path) -> str:
    blocks = generated_blocks(path)
    text = path.read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            raise ValueError(f"{path}: unknown generated block {name!r}")
        return match.group(1) + blocks[name] + match.group(3)

    return _BLOCK.sub(fill, text)


def stale_files() -> list[Path]:
    return [path for path in documented_files() if path.exists() and render(path) != path.read_text(encoding="utf-8")]


def write_all() -> list[Path]:
    changed = stale_files()
    for path in changed:
        path.write_text(render(path), encoding="utf-8")
    return changed
