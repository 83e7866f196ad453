"""The grades written into nbgrader's gradebook are the ones nbgrader's own `nbgrader export` reads.

Real nbgrader, no mocks: each test writes results documents of a small class into a fresh
course folder with `write_gradebook`, then runs `python -m nbgrader export` there and reads
the grades.csv it writes.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from grader.batch.gradebook import GradebookError, write_gradebook
from grader.manifest import Exercise, load_exercises

nbgrader_api = pytest.importorskip("nbgrader.api",
                                   reason="nbgrader is the grader extra: pip install -e '.[grader]'")

pytestmark = pytest.mark.usefixtures("venv_on_path")

ASSIGNMENT = "concurrency-kit"
EXERCISES = load_exercises()[:2]
MAX_SCORE = sum(exercise.max_points for exercise in EXERCISES)


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory: pytest.TempPathFactory, venv_path: str) -> Path:
    """An empty gradebook.db: creating one runs alembic for about 2 s, so most tests copy this one."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PATH", venv_path)
        nbgrader_api.Gradebook(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def started_course(course: Path, empty_gradebook: Path) -> Path:
    """A course whose gradebook exists, still empty."""
    shutil.copy(empty_gradebook, course / "gradebook.db")
    return course


def document(student: str, earned: dict[str, dict[str, int]], extra_groups: int = 0,
             exercises: tuple[Exercise, ...] = EXERCISES) -> dict[str, Any]:
    """A results document (OUT/<student>/results.json) giving student the points of earned per exercise and group.

    A group missing from earned[exercise] is missing from the document; extra_groups adds
    that many "unknown group" entries worth nothing, as the grader reports them.
    """
    entries = []
    for exercise in exercises:
        groups = [{"name": name, "points": points, "max_points": exercise.points[name],
                   "status": "earned" if points == exercise.points[name] else "failed", "note": ""}
                  for name, points in earned[exercise.id].items()]
        groups += [{"name": "unknown group", "points": 0, "max_points": 0, "status": "failed", "note": ""}] \
            * extra_groups
        entries.append({"id": exercise.id, "title": exercise.title,
                        "points": sum(group["points"] for group in groups), "max_points": exercise.max_points,
                        "integrity": {"status": "clean", "evidence": []}, "message": "", "groups": groups})
    return {"format": "concurrency-kit-results", "version": 1, "student": student,
            "submission": f"/submissions/{student}", "points": sum(entry["points"] for entry in entries),
            "max_points": sum(exercise.max_points for exercise in exercises), "problem": "",
            "exercises": entries, "tests": []}


def full_marks(exercise: Exercise) -> dict[str, int]:
    return dict(exercise.points)


def half_marks(exercise: Exercise) -> dict[str, int]:
    return {name: points // 2 for name, points in exercise.points.items()}


def first_group_missing(exercise: Exercise) -> dict[str, int]:
    return dict(list(exercise.points.items())[1:])


def class_of_three() -> list[dict[str, Any]]:
    return [document("alice", {exercise.id: full_marks(exercise) for exercise in EXERCISES}),
            document("bob", {exercise.id: half_marks(exercise) for exercise in EXERCISES}),
            document("carol", {exercise.id: first_group_missing(exercise) for exercise in EXERCISES},
                     extra_groups=1)]


def open_gradebook(course_dir: Path) -> Any:
    return nbgrader_api.Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}")


def scores(rows: dict[tuple[str, str], dict[str, str]],
           assignment: str = ASSIGNMENT) -> dict[str, tuple[float, float]]:
    return {student: (float(row["score"]), float(row["max_score"]))
            for (name, student), row in rows.items() if name == assignment}


def test_export_lists_every_student_with_the_points_of_their_document(export, course: Path) -> None:
    results = class_of_three()
    assert len({result["points"] for result in results}) == 3, "the class should tell its students apart"

    write_gradebook(course, ASSIGNMENT, EXERCISES, results)

    assert scores(export(course)) == {result["student"]: (result["points"], MAX_SCORE) for result in results}
    with open_gradebook(course) as gradebook:
        # Graded by the kit, so formgrader must not list them as waiting for a human.
        assert not [grade for submission in gradebook.find_assignment(ASSIGNMENT).submissions
                    for notebook in submission.notebooks for grade in notebook.grades if grade.needs_manual_grade]
        missing_group = next(iter(EXERCISES[0].points))
        assert gradebook.find_grade(missing_group, EXERCISES[0].id, ASSIGNMENT, "carol").auto_score == 0.0


def test_rerunning_updates_the_scores_in_place(export, started_course: Path) -> None:
    results = class_of_three()
    write_gradebook(started_course, ASSIGNMENT, EXERCISES, results)
    bob_before = results[1]["points"]
    results[1] = document("bob", {exercise.id: full_marks(exercise) for exercise in EXERCISES})
    assert results[1]["points"] != bob_before

    write_gradebook(started_course, ASSIGNMENT, EXERCISES, results)
    write_gradebook(started_course, ASSIGNMENT, EXERCISES, results)

    expected = {result["student"]: (result["points"], MAX_SCORE) for result in results}
    assert scores(export(started_course)) == expected
    with open_gradebook(started_course) as gradebook:
        assert [student.id for student in gradebook.students].count("bob") == 1
        assert len(gradebook.find_assignment(ASSIGNMENT).submissions) == 3


# nbgrader's add_submission warns about its own half-built submission, then adds it whole.
@pytest.mark.filterwarnings(r"ignore:Object of type <Submitted\w+> not in session")
def test_a_course_keeps_its_other_assignments_and_students(export, started_course: Path) -> None:
    with open_gradebook(started_course) as gradebook:
        gradebook.add_assignment("lab0")
        gradebook.add_notebook("intro", "lab0")
        gradebook.add_grade_cell("q1", "intro", "lab0", max_score=5.0, cell_type="code")
        gradebook.add_student("dave", first_name="Dave")
        gradebook.add_student("alice", first_name="Alice")
        gradebook.add_submission("lab0", "alice")
        grade = gradebook.find_grade("q1", "intro", "lab0", "alice")
        grade.manual_score = 4.0
        gradebook.db.commit()
    results = class_of_three()

    write_gradebook(started_course, ASSIGNMENT, EXERCISES, results)

    rows = export(started_course)
    expected = {result["student"]: (result["points"], MAX_SCORE) for result in results}
    assert scores(rows) == {**expected, "dave": (0.0, MAX_SCORE)}
    assert rows[ASSIGNMENT, "dave"]["timestamp"] == ""
    assert scores(rows, "lab0") == {"alice": (4.0, 5.0), "bob": (0.0, 5.0), "carol": (0.0, 5.0),
                                    "dave": (0.0, 5.0)}
    assert rows["lab0", "alice"]["first_name"] == "Alice"
    with open_gradebook(started_course) as gradebook:
        with pytest.raises(nbgrader_api.MissingEntry):
            gradebook.find_submission(ASSIGNMENT, "dave")


def test_a_changed_manifest_changes_the_grade_cells(export, started_course: Path) -> None:
    results = class_of_three()
    write_gradebook(started_course, ASSIGNMENT, EXERCISES, results)
    first, second = EXERCISES
    dropped, kept, *_ = first.points
    points = dict(first.points)
    del points[dropped]
    points[kept] += 1
    points["new_group"] = 3
    changed = dataclasses.replace(first, points=points)
    exercises = (changed, second)
    alice = document("alice", {exercise.id: full_marks(exercise) for exercise in exercises}, exercises=exercises)

    write_gradebook(started_course, ASSIGNMENT, exercises, [alice])

    new_max = changed.max_points + second.max_points
    assert new_max != MAX_SCORE
    bob, carol = results[1:]
    assert scores(export(started_course)) == {
        "alice": (new_max, new_max),
        # bob and carol were not regraded: their points of the groups that remain stand,
        # and the groups they were never graded on count nothing.
        "bob": (bob["points"] - first.points[dropped] // 2, new_max),
        "carol": (carol["points"], new_max),
    }
    with open_gradebook(started_course) as gradebook:
        grade = gradebook.find_grade("new_group", first.id, ASSIGNMENT, "bob")
        assert grade.auto_score is None and grade.needs_manual_grade


def test_without_alembic_on_path_it_says_to_activate_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(GradebookError, match="activate"):
        write_gradebook(tmp_path / "course", ASSIGNMENT, EXERCISES, class_of_three())
    assert not (tmp_path / "course").exists()


@pytest.mark.parametrize("bad, message", [
    (lambda results: results[0].pop("student"), "names no student"),
    (lambda results: results.append(document("bob", {e.id: full_marks(e) for e in EXERCISES})), "two results"),
    (lambda results: results[0]["exercises"][0]["groups"][0].update(points=99), "from 0 to"),
])
def test_a_malformed_document_is_refused_before_the_gradebook_is_touched(
        tmp_path: Path, bad: Any, message: str) -> None:
    results = class_of_three()
    bad(results)

    with pytest.raises(ValueError, match=message):
        write_gradebook(tmp_path / "course", ASSIGNMENT, EXERCISES, results)
    assert not (tmp_path / "course").exists()
