"""`python -m grader hint`: the student's `hint` (student_runtime/cli/hint.py) on the kit's own
exercises/ folder."""

from __future__ import annotations

import argparse

from grader.cli.status import kit_workspace
from student_runtime.cli import hint


def add_parser(commands: argparse._SubParsersAction) -> None:
    hint.add_parser(commands, kit_workspace)
