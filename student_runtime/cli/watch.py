"""`python -m student_runtime watch [NN]`: run an exercise's visible tests again each time its
file is saved. Without NN it starts at the first exercise that does not pass yet and moves on
to the next one when all its tests pass. Ctrl-C stops it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Set
from pathlib import Path
from typing import IO

from student_runtime.exercises import ExerciseInfo
from student_runtime.progress import (PASSING, Workspace, add_workspace_option, check_summary, next_exercise,
                                      open_workspace, run_all, run_one)

# A batch of changes as watchfiles reports them: (kind of change, absolute path) pairs.
Changes = Set[tuple[object, str]]
WAKE_MS = 300


def add_parser(commands: argparse._SubParsersAction, workspace: Callable[[], Workspace] | None = None) -> None:
    parser = commands.add_parser("watch", help="run an exercise's tests each time you save its file",
                                 description=__doc__)
    parser.add_argument("exercise", nargs="?", help="the exercise: its number (03) or id (03_semaphore);"
                                                    " default: the first that does not pass yet")
    add_workspace_option(parser, workspace)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    """Watch the named exercise, or follow the exercises from the first that does not pass."""
    workspace = open_workspace(arguments)
    if workspace is None:
        return 2
    try:
        if arguments.exercise is not None:
            try:
                first = workspace.find(arguments.exercise)
            except KeyError as error:
                print(f"error: {error.args[0]}", file=sys.stderr)
                return 2
        else:
            print("Looking for the first exercise that does not pass yet...", flush=True)
            upcoming = next_exercise(run_all(workspace, workspace.exercises))
            if upcoming is None:
                print("Every exercise passes its visible tests: nothing to watch.")
                return 0
            first = upcoming.exercise
        watch(workspace, first, file_changes(workspace.root / "exercises"), sys.stdout,
              follow=arguments.exercise is None)
    except KeyboardInterrupt:
        print("\nStopped watching.")
    return 0


def watch(workspace: Workspace, exercise: ExerciseInfo, changes: Iterable[Changes], out: IO[str], *,
          follow: bool = False) -> None:
    """Run the exercise's tests now and after each batch of changes that touches its module.
    With `follow`, an exercise whose tests all pass hands over to the next one in the listing;
    after the last one, watching ends."""
    current = _test(workspace, exercise, out, follow)
    batches = iter(changes)
    while current is not None:
        batch = next(batches, None)
        if batch is None:
            return
        module = current.module_file(workspace.root).resolve()
        if any(Path(path).resolve() == module for _, path in batch):
            current = _test(workspace, current, out, follow)


def _test(workspace: Workspace, exercise: ExerciseInfo, out: IO[str], follow: bool) -> ExerciseInfo | None:
    """Run the exercise's tests (and, when following, those of the next ones while they pass);
    the exercise to watch now, or None when none is left."""
    while True:
        result = run_one(workspace, exercise, out)
        out.write("\n" + check_summary(workspace, result))
        if not follow or result.state != PASSING:
            break
        later = workspace.exercises[workspace.exercises.index(exercise) + 1:]
        if not later:
            out.write("That was the last exercise: every one passes its visible tests.\n")
            out.flush()
            return None
        exercise = later[0]
        out.write(f"\nOn to {exercise.id}.\n")
    module = exercise.module_file(Path(".")).as_posix()
    out.write(f"\nWatching {module}: save it to run the tests again; Ctrl-C stops.\n")
    out.flush()
    return exercise


def file_changes(folder: Path) -> Iterator[Changes]:
    """The batches of changes to Python files under folder, watched from now on, so that a save
    during the first run of the tests is not missed. Every WAKE_MS without a change it yields an
    empty batch, which is how it knows that the watch is in place before it returns."""
    from watchfiles import PythonFilter  # only this command needs watchfiles
    from watchfiles import watch as watch_files

    changes = watch_files(folder, watch_filter=PythonFilter(), yield_on_timeout=True, rust_timeout=WAKE_MS)
    next(changes)  # an early change needs no rerun: the first run tests the file as it is then
    return changes
