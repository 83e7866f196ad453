"""`python -m grader grade SUBMISSIONS --out OUT`: grade a whole class into grades.csv,
each student's results.json and feedback.md, and optionally nbgrader's gradebook and
Gradescope's results. See grader/batch/ for the steps."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.batch.discover import Submission, SubmissionsError, discover
from grader.batch.run import ClassGrading, Graded, grade_class
from grader.batch.visible import VisibleTests
from grader.harness.timing import usable_cores
from grader.manifest import Exercise, assignment_name, get_exercise, load_exercises


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("grade", help="grade a class of student repositories",
                                 description=__doc__)
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                        help="a folder with one folder or .zip file per student (GitHub Classroom clones"
                             " included), nbgrader's course folder, or one student repository")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="where to write the grades")
    add_selection_options(parser)
    parser.add_argument("--jobs", type=int, default=usable_cores(), metavar="N",
                        help="students graded at once (default: the usable cores, %(default)s here)")
    parser.add_argument("--shard", type=shard, default=(1, 1), metavar="K/N",
                        help="grade only the K-th of N equal parts of the class (for several machines)")
    parser.add_argument("--force", action="store_true", help="regrade students whose files have not changed")
    parser.add_argument("--visible", action="store_true",
                        help="grade on the visible tests, as the autograder on push does: what the students"
                             " saw, not a grade (use its own --out)")
    parser.add_argument("--gradescope", action="store_true",
                        help="also write each student's Gradescope results (OUT/<student>/gradescope.json)")
    add_publish_options(parser)
    parser.set_defaults(run=run)


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exercise", action="append", dest="exercises", metavar="ID", default=None,
                        help="grade only this exercise (its id or number); repeat for several")


def add_publish_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nbgrader", type=Path, metavar="COURSE_DIR", default=None,
                        help="also write the scores into COURSE_DIR/gradebook.db through nbgrader")
    parser.add_argument("--assignment", default=assignment_name(), metavar="NAME",
                        help="the nbgrader assignment (default: the manifest's, %(default)s); also picks"
                             " the assignment folder in nbgrader's submitted/<student>/<assignment>/")


def shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N, such as 2/4") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return index, count


def chosen_exercises(arguments: argparse.Namespace) -> tuple[Exercise, ...]:
    if not arguments.exercises:
        return load_exercises()
    try:
        chosen = {get_exercise(name).id for name in arguments.exercises}
    except KeyError as error:
        raise SystemExit(f"--exercise: {error.args[0]}") from None
    return tuple(exercise for exercise in load_exercises() if exercise.id in chosen)


def in_shard(submissions: Sequence[Submission], index: int, count: int) -> list[Submission]:
    """The K-th of N parts of the class: every N-th student in name order, from the K-th."""
    return [submission for number, submission in enumerate(submissions) if number % count == index - 1]


def run(arguments: argparse.Namespace) -> int:
    exercises = chosen_exercises(arguments)
    try:
        submissions = in_shard(discover(arguments.submissions, arguments.assignment), *arguments.shard)
    except SubmissionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    jobs = arguments.jobs if os.name == "posix" else 1  # the timing lock needs POSIX file locks
    grading = ClassGrading(exercises, arguments.out, force=arguments.force, gradescope=arguments.gradescope)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kit-release-") as release_folder, Progress(len(submissions)) as progress:
        if arguments.visible:
            grading.visible = VisibleTests.release_into(Path(release_folder) / "template", exercises)
        graded = grade_class(grading, submissions, jobs, progress.update)
    print_summary(graded, arguments.out, time.perf_counter() - started, jobs)
    publish(arguments, exercises, [g.results for g in graded])
    return 1 if any(g.state == "grader failure" for g in graded) else 0


def publish(arguments: argparse.Namespace, exercises: Sequence[Exercise], results: Sequence[dict[str, Any]]) -> None:
    """Write the grades where --nbgrader asks for them."""
    if arguments.nbgrader is not None:
        from grader.batch.gradebook import write_gradebook  # nbgrader is the `grader` extra

        write_gradebook(arguments.nbgrader, arguments.assignment, exercises, results)
        print(f"nbgrader: {len(results)} submission(s) of assignment {arguments.assignment!r} written"
              f" to {arguments.nbgrader / 'gradebook.db'}; `nbgrader export` there lists them")


class Progress:
    """A progress bar with count and ETA on a terminal; a plain line per student elsewhere."""

    def __init__(self, total: int) -> None:
        self.total, self.count = total, 0
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="student", file=sys.stderr)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, graded: Graded) -> None:
        self.count += 1
        results = graded.results
        line = f"{results['student']}: {results['points']}/{results['max_points']}" + \
            ("" if graded.state == "graded" else f" ({graded.state})")
        if self.bar is not None:
            self.bar.set_postfix_str(line)
            self.bar.update()
        else:
            print(f"[{self.count}/{self.total}] {line}", file=sys.stderr, flush=True)


def print_summary(graded: Sequence[Graded], out: Path, seconds: float, jobs: int) -> None:
    failures = [g.results["student"] for g in graded if g.state == "grader failure"]
    unchanged = sum(g.state == "unchanged" for g in graded)
    flags = [flag for g in graded for flag in g.flags]
    print(f"graded {len(graded) - unchanged} student(s), {unchanged} unchanged since their last grade,"
          f" in {seconds:.0f} s with {jobs} job(s)")
    regrade = f" ({', '.join(failures)}: regrade them)" if failures else ""
    print(f"failures of the grader itself: {len(failures)}{regrade}")
    print(f"integrity flags: {len(flags)}" + "".join(f"\n    {flag}" for flag in flags))
    again = [line for g in graded for line in g.measured_again]
    print(f"measured again, the machine being too busy: {len(again)}" + "".join(f"\n    {line}" for line in again))
    print(f"grades: {out / 'grades.csv'}; per student: {out}/<student>/results.json and feedback.md")
