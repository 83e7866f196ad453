"""`python -m grader dev-check`: prove the kit's invariants in seconds, without running a suite."""

from __future__ import annotations

import argparse

from grader.check import check_kit
from grader.manifest import KIT_ROOT


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dev-check", help="check the manifest, the exercise folders, groups and mutants")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    problems = check_kit(KIT_ROOT)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) found" if problems else "ok: every invariant of the kit holds")
    return 1 if problems else 0
