"""`python -m student_runtime status`: where every exercise stands, and the one to do next.

Runs every exercise's visible tests at once, without the timing tests (speedups, how long a call
takes), so that the answer comes within seconds; `check NN` runs those too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from student_runtime.progress import (
    PASSING, STATUS_DEADLINE, Workspace, add_workspace_option, open_workspace, run_all, status_report,
)


def add_parser(commands: argparse._SubParsersAction, workspace: Callable[[], Workspace] | None = None) -> None:
    parser = commands.add_parser("status", help="where every exercise stands, and the next one to do",
                                 description=__doc__)
    parser.add_argument("--timeout", type=float, default=STATUS_DEADLINE, metavar="SECONDS",
                        help=f"stop the tests still running after this long (default {STATUS_DEADLINE:.0f})")
    add_workspace_option(parser, workspace)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Print the status table; 0 when every exercise passes."""
    workspace = open_workspace(arguments)
    if workspace is None:
        return 2
    print("Running the visible tests of every exercise...", flush=True)
    runs = run_all(workspace, workspace.exercises, arguments.timeout)
    print(status_report(workspace, runs), end="")
    return 0 if all(run.state == PASSING for run in runs) else 1
