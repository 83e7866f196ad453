"""Write a class's grades into nbgrader's gradebook, COURSE_DIR/gradebook.db.

The assignment is laid out as nbgrader's own autograder would leave it, so that formgrader
and `nbgrader export` read it as they read any other: one notebook per exercise, one grade
cell per test group (its max score is the group's points), and one submission per student
whose grades carry the group's points as `auto_score`.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.manifest import Exercise

if TYPE_CHECKING:
    from nbgrader.api import Gradebook, SubmittedAssignment

# Points a student earned, by (exercise id, group name).
Scores = dict[tuple[str, str], float]


class GradebookError(RuntimeError):
    """The gradebook cannot be written on this machine; the message says what to do."""


def write_gradebook(course_dir: Path, assignment: str, exercises: Sequence[Exercise],
                    results: Iterable[Mapping[str, Any]]) -> None:
    """Write the points of every results document into assignment of course_dir's gradebook.

    Creates the gradebook, the assignment, its notebooks (one per exercise) and grade cells
    (one per group of the manifest) when they are missing, then one student and one
    submission per document; a group absent from a document scores 0. Re-running updates the
    scores in place. Nothing else in the course is removed: other assignments and students,
    and the notebooks of exercises not in `exercises` (a run graded with --exercise updates
    only those), stay as they are. The one exception is a grade cell of a group the manifest
    no longer lists for an exercise: it would inflate every max score, so it goes, with its
    grades. A score a human entered in formgrader still takes precedence, as nbgrader wants.

    Raises ValueError for a malformed document, before the gradebook is touched, and
    GradebookError when nbgrader or its `alembic` command is not available.
    """
    scores = _scores_by_student(exercises, results)
    if shutil.which("alembic") is None:
        raise GradebookError(
            "nbgrader's gradebook needs the `alembic` command, which is not on PATH: run the grader"
            " from the environment where nbgrader is installed (activate it, for example"
            " `source .venv/bin/activate`)")
    try:
        from nbgrader.api import Gradebook
        from sqlalchemy.exc import SAWarning
    except ImportError as error:
        raise GradebookError("nbgrader is not installed: run `python -m pip install -e \".[grader]\"`"
                             " in the kit's folder, then try again") from error
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    chosen = {exercise.id for exercise in exercises}
    with warnings.catch_warnings():
        # nbgrader's add_submission builds the submission before adding it to the session,
        # which SQLAlchemy warns about; the submission is added and committed right after.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session",
                                category=SAWarning)
        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
            _lay_out(gradebook, assignment, exercises)
            # Submissions made before a notebook or grade cell existed have no grade for it.
            for submission in gradebook.find_assignment(assignment).submissions:
                _complete(gradebook, submission)
            for student, points in scores.items():
                gradebook.update_or_create_student(student)
                submission = gradebook.update_or_create_submission(assignment, student)
                _record(gradebook, submission, chosen, points)


def _scores_by_student(exercises: Sequence[Exercise], results: Iterable[Mapping[str, Any]]) -> dict[str, Scores]:
    by_id = {exercise.id: exercise for exercise in exercises}
    scores: dict[str, Scores] = {}
    for document in results:
        student = document.get("student")
        if not isinstance(student, str) or not student:
            raise ValueError(f"the results document of {document.get('submission', 'a submission')!r} names no"
                             " student; regrade it")
        if student in scores:
            raise ValueError(f"two results documents for student {student!r}; pass one per student")
        points: Scores = {}
        for entry in document.get("exercises", []):
            exercise = by_id.get(entry.get("id"))
            if exercise is None:  # graded, but not one of the exercises asked for
                continue
            for group in entry.get("groups", []):
                name = group.get("name")
                if name not in exercise.points:  # e.g. "unknown group", worth nothing
                    continue
                earned = group.get("points")
                if isinstance(earned, bool) or not isinstance(earned, (int, float)) \
                        or not 0 <= earned <= exercise.points[name]:
                    raise ValueError(f"student {student!r}, {exercise.id}, group {name!r}: points {earned!r}"
                                     f" are not a number from 0 to {exercise.points[name]}; regrade the student")
                points[exercise.id, name] = float(earned)
        scores[student] = points
    return scores


def _lay_out(gradebook: Gradebook, assignment: str, exercises: Sequence[Exercise]) -> None:
    """The assignment's notebooks and grade cells, before any submission is made or completed."""
    gradebook.update_or_create_assignment(assignment)
    for exercise in exercises:
        notebook = gradebook.update_or_create_notebook(exercise.id, assignment)
        for cell in notebook.grade_cells:
            if cell.name not in exercise.points:
                for grade in cell.grades:
                    gradebook.db.delete(grade)
                gradebook.db.delete(cell)
        gradebook.db.commit()
        for group, points in exercise.points.items():
            gradebook.update_or_create_grade_cell(group, exercise.id, assignment,
                                                  max_score=float(points), cell_type="code")


def _complete(gradebook: Gradebook, submission: SubmittedAssignment) -> None:
    """Give submission a notebook and a grade for every notebook and grade cell of its assignment.

    New grades keep nbgrader's defaults (no score, needs grading) until a document fills them.
    """
    from nbgrader.api import Grade, SubmittedNotebook

    submitted = {notebook.notebook_id: notebook for notebook in submission.notebooks}
    for notebook in submission.assignment.notebooks:
        copy = submitted.get(notebook.id)
        if copy is None:
            copy = SubmittedNotebook(notebook=notebook, assignment=submission)
            gradebook.db.add(copy)
        graded = {grade.cell_id for grade in copy.grades}
        for cell in notebook.grade_cells:
            if cell.id not in graded:
                gradebook.db.add(Grade(cell=cell, notebook=copy))
    gradebook.db.commit()


def _record(gradebook: Gradebook, submission: SubmittedAssignment, chosen: set[str], points: Scores) -> None:
    for notebook in submission.notebooks:
        if notebook.name not in chosen:
            continue
        for grade in notebook.grades:
            grade.auto_score = points.get((notebook.name, grade.cell.name), 0.0)
            grade.needs_manual_grade = False
    gradebook.db.commit()
