"""`python -m grader release OUT_DIR`: write the students' template repository (see
grader/release/): stubs, visible tests, the student runtime and the autograding workflow, and
nothing of the grading."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.manifest import load_exercises
from grader.release import release


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("release", help="write the students' template repository", description=__doc__)
    parser.add_argument("out", type=Path, metavar="OUT_DIR", help="a new (or empty) folder")
    parser.add_argument("--classroom-reporter", action="store_true",
                        help="end the autograding workflow with GitHub Classroom's reporter step")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        files = release(arguments.out, load_exercises(), classroom_reporter=arguments.classroom_reporter)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {arguments.out}: push it as the template repository students clone")
    return 0
