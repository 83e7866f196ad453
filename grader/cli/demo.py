"""`python -m grader demo`: grade a small bundled class, the newcomer's first command.

The class is made from the kit itself: the reference solutions, the untouched stubs, and two
students whose files are the kit's mutants (plausible wrong solutions), so every step of a
real grading (sandboxes, loopback servers, process pools, timing checks, scoring, feedback)
runs, and the gradebook shows what right, wrong and unstarted code earn.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from grader.batch.discover import discover
from grader.batch.run import GRADES_FILE, ClassGrading, grade_class
from grader.batch.sample import sample_class
from grader.cli.grade import Progress, add_selection_options, chosen_exercises, print_summary
from grader.harness.timing import usable_cores


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="grade a small bundled class and show its gradebook",
                                 description=__doc__)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    exercises = chosen_exercises(arguments)
    root = Path(tempfile.mkdtemp(prefix="kit-demo-"))
    submissions = discover(sample_class(exercises, root / "class", size=4))
    out = root / "grades"
    print(f"grading a class of {len(submissions)} students on {len(exercises)} exercise(s)"
          f" ({usable_cores()} jobs; a full class takes a minute or two)")
    started = time.perf_counter()
    with Progress(len(submissions)) as progress:
        graded = grade_class(ClassGrading(exercises, out), submissions, usable_cores(), progress.update)
    print()
    with open(out / GRADES_FILE, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.rjust(width) if index else cell.ljust(width)
                        for index, (cell, width) in enumerate(zip(row, widths))))
    print()
    print_summary(graded, out, time.perf_counter() - started, usable_cores())
    print(f"the class graded: {root / 'class'} (one student repository per folder)")
    print("next: grade your own class with")
    print("    python -m grader grade SUBMISSIONS --out grades [--nbgrader COURSE_DIR] [--gradescope]")
    reference = next(g for g in graded if g.results["student"] == "reference").results
    return 0 if reference["points"] == reference["max_points"] else 1
