"""`python -m student_runtime hint NN`: the next hint for an exercise, one at a time, from
gentle to explicit. The hints seen so far are kept in .hints-seen.json at the top of the
repository (git ignores it), so each call goes one step further."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from student_runtime.exercises import ExerciseInfo
from student_runtime.progress import Workspace, add_workspace_option, open_workspace

SEEN_FILE = ".hints-seen.json"


def add_parser(commands: argparse._SubParsersAction, workspace: Callable[[], Workspace] | None = None) -> None:
    parser = commands.add_parser("hint", help="the next hint for an exercise", description=__doc__)
    parser.add_argument("exercise", help="the exercise: its number (03) or id (03_semaphore)")
    add_workspace_option(parser, workspace)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Print the exercise's next hint and remember that it was seen."""
    workspace = open_workspace(arguments)
    if workspace is None:
        return 2
    try:
        exercise = workspace.find(arguments.exercise)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    print(next_hint(workspace, exercise), end="")
    return 0


def next_hint(workspace: Workspace, exercise: ExerciseInfo) -> str:
    """The text of the hint after the last one seen, moving the level kept in SEEN_FILE on."""
    hints, root = exercise.hints, workspace.root
    if not hints:
        return f"{exercise.id} has no hints: its README.md says what to build.\n"
    seen = hints_seen(root)
    level = min(seen.get(exercise.id, 0) + 1, len(hints))
    seen[exercise.id] = level
    (root / SEEN_FILE).write_text(json.dumps(seen, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text = f"Hint {level} of {len(hints)} for {exercise.id}:\n{hints[level - 1]}\n"
    if level == len(hints):
        return text + "That was the last hint.\n"
    return text + f"`{workspace.command} hint {exercise.number}` again gives the next one.\n"


def hints_seen(root: Path) -> dict[str, int]:
    """How many hints of each exercise were shown; a missing or damaged file means none."""
    try:
        data = json.loads((root / SEEN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {name: level for name, level in data.items() if isinstance(level, int) and level >= 0}
