"""`python -m grader check`: the student's `check` (student_runtime/cli/check.py) on the kit's own
exercises/ folder."""

from __future__ import annotations

import argparse

from grader.cli.status import kit_workspace
from student_runtime.cli import check


def add_parser(commands: argparse._SubParsersAction) -> None:
    check.add_parser(commands, kit_workspace)
