"""`python -m grader status`: the student's `status` (student_runtime/cli/status.py) on the kit's
own exercises/ folder, whose exercises come from the manifest instead of exercises.json."""

from __future__ import annotations

import argparse

from grader.manifest import KIT_ROOT, load_exercises
from student_runtime.cli import status
from student_runtime.exercises import ExerciseInfo
from student_runtime.progress import Workspace


def kit_workspace() -> Workspace:
    """The kit's exercises/ folder, as the student's commands see a repository."""
    exercises = tuple(ExerciseInfo(exercise.id, exercise.module, exercise.title, exercise.hints)
                      for exercise in load_exercises())
    return Workspace(KIT_ROOT, exercises, "python -m grader")


def add_parser(commands: argparse._SubParsersAction) -> None:
    status.add_parser(commands, kit_workspace)
