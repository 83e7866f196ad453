"""`python -m grader watch`: the student's `watch` (student_runtime/cli/watch.py) on the kit's own
exercises/ folder."""

from __future__ import annotations

import argparse

from grader.cli.status import kit_workspace
from student_runtime.cli import watch


def add_parser(commands: argparse._SubParsersAction) -> None:
    watch.add_parser(commands, kit_workspace)
