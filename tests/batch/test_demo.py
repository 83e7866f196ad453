"""`python -m grader demo`: the bundled class is graded and its gradebook printed."""

from __future__ import annotations

import re

from grader.batch.sample import sample_class
from grader.cli import main
from grader.manifest import get_exercise, load_exercises

RACE = get_exercise("01_race_condition")


def test_the_sample_class_hands_in_the_kits_own_files(tmp_path):
    sample_class(load_exercises(), tmp_path, size=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mutants-01", "mutants-02", "reference", "untouched-stubs"]
    for exercise in load_exercises():
        handed_in = {p.name: exercise.module_file(p).read_bytes() for p in tmp_path.iterdir()}
        assert handed_in["reference"] == exercise.module_file().read_bytes()
        assert handed_in["untouched-stubs"] == (exercise.stub_dir / f"{exercise.module}.py").read_bytes()
        assert handed_in["mutants-01"] == exercise.mutants()[0].path.read_bytes()
        assert handed_in["mutants-01"] != handed_in["mutants-02"]


def test_the_demo_prints_the_gradebook_and_what_to_do_next(capsys):
    assert main(["demo", "--exercise", RACE.id]) == 0
    out = capsys.readouterr().out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()
             if re.match(r"(reference|untouched-stubs|mutants-\d\d)\s", line)}
    assert table["reference"] == ["10", "10"] and table["untouched-stubs"] == ["0", "0"]
    assert all(0 <= int(points) < 10 for name, (points, _) in table.items() if name.startswith("mutants-"))
    assert "failures of the grader itself: 0" in out
    assert "python -m grader grade SUBMISSIONS --out grades" in out
