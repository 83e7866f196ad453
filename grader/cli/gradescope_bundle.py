"""`python -m grader gradescope-bundle OUT.zip`: the autograder zip for a Gradescope assignment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.batch.gradescope import build_bundle
from grader.manifest import get_exercise, load_exercises


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "gradescope-bundle", help="build the autograder zip of a Gradescope programming assignment")
    parser.add_argument("zip_path", metavar="OUT.zip", type=Path, help="the zip to write")
    parser.add_argument("--exercise", action="append", default=[], metavar="ID",
                        help="grade only this exercise (repeat for more); default: every exercise")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    try:
        chosen = {get_exercise(exercise_id).id for exercise_id in arguments.exercise}
    except KeyError as error:
        print(f"gradescope-bundle: {error.args[0]}", file=sys.stderr)
        return 2
    exercises = [exercise for exercise in load_exercises() if not chosen or exercise.id in chosen]
    missing = [exercise.id for exercise in exercises if not exercise.hidden_suite_dir.is_dir()]
    if missing:
        print(f"gradescope-bundle: no hidden suite in tests/ for {', '.join(missing)}; leave them out with --exercise",
              file=sys.stderr)
        return 2
    build_bundle(arguments.zip_path, exercises)
    print(f"wrote {arguments.zip_path}, which grades {', '.join(exercise.id for exercise in exercises)}.\n"
          "Upload it as the autograder of a Gradescope programming assignment (Ubuntu 22.04 or newer);"
          " students upload the files they edited.")
    return 0
