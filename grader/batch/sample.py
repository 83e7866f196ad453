"""A class made of the kit's own files, for the demo and the throughput benchmark.

Its students are the reference solutions, the untouched stubs, and students whose every file
is one of the kit's mutants (plausible wrong solutions): the grades they must get are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.manifest import Exercise


def sample_class(exercises: Sequence[Exercise], folder: Path, size: int) -> Path:
    """Lay out `size` student repositories in folder: "reference", "untouched-stubs", then
    "mutants-01", "mutants-02", ... where mutants-N hands in the N-th mutant of each exercise
    (counting round), and return folder."""
    students = {"reference": {e.id: e.module_file() for e in exercises},
                "untouched-stubs": {e.id: e.stub_dir / f"{e.module}.py" for e in exercises}}
    for number in range(1, size - 1):
        students[f"mutants-{number:02d}"] = {e.id: e.mutants()[(number - 1) % len(e.mutants())].path
                                             for e in exercises}
    for student, files in list(students.items())[:size]:
        for exercise in exercises:
            target = exercise.module_file(folder / student)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[exercise.id].read_bytes())
    return folder
