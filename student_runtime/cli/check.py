"""`python -m student_runtime check NN`: the visible tests of one exercise, then what failed
and why, in the same words as the grader's messages. Exits 0 when every test passes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from student_runtime.progress import PASSING, Workspace, add_workspace_option, check_summary, open_workspace, run_one


def add_parser(commands: argparse._SubParsersAction, workspace: Callable[[], Workspace] | None = None) -> None:
    parser = commands.add_parser("check", help="run one exercise's visible tests and say what failed",
                                 description=__doc__)
    parser.add_argument("exercise", help="the exercise: its number (03) or id (03_semaphore)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="replay the inputs and thread switches of a failure that printed this seed")
    add_workspace_option(parser, workspace)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Run and sum up one exercise's visible tests; 0 when all pass, 1 when not, 2 for a bad name."""
    workspace = open_workspace(arguments)
    if workspace is None:
        return 2
    try:
        exercise = workspace.find(arguments.exercise)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    options = [] if arguments.seed is None else ["--seed", str(arguments.seed)]
    try:
        result = run_one(workspace, exercise, sys.stdout, options)
    except KeyboardInterrupt:
        print("\nStopped.")
        return 130
    print()
    print(check_summary(workspace, result), end="")
    return 0 if result.state == PASSING else 1
