"""The pytest plugin: where it is active, bad --submission input, the replay command, and the
report's not-measured groups, unknown groups and integrity.

Each test runs pytest in a fresh process on small test files written into a temporary folder.
A folder named like an exercise (tests/01_race_condition/) makes them hidden tests of that
exercise, so the plugin grades them as it grades the real suites, in a second or two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.harness.confine import protections_in_force
from grader.manifest import KIT_ROOT, get_exercise

COUNTER = get_exercise("01_race_condition")
HEADER = "concurrency kit: grading"


def run_pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          capture_output=True, text=True, cwd=cwd)


def hidden_suite(root: Path, source: str) -> Path:
    """A hidden test file of 01_race_condition under root; returns its folder."""
    folder = root / "tests" / COUNTER.id
    folder.mkdir(parents=True)
    (folder / "test_fake.py").write_text("import pytest\n\n" + source, encoding="utf-8")
    return folder


def submission(root: Path, module_source: str) -> Path:
    module = COUNTER.module_file(root)
    module.parent.mkdir(parents=True)
    module.write_text(module_source, encoding="utf-8")
    return root


def test_a_run_outside_the_kit_has_no_kit_header_hook_or_fixture(tmp_path: Path):
    (tmp_path / "test_other.py").write_text("def test_uses_rng(rng):\n    pass\n")
    completed = run_pytest(cwd=tmp_path)
    assert HEADER not in completed.stdout
    assert "fixture 'rng' not found" in completed.stdout
    assert "points" not in completed.stdout


def test_a_kit_option_brings_the_kit_in(tmp_path: Path):
    (tmp_path / "test_other.py").write_text(
        "import random\n\ndef test_uses_rng(rng):\n    assert rng.random() == random.Random(7).random()\n")
    completed = run_pytest("--seed", "7", cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout
    assert f"{HEADER} the reference solutions (solutions/)" in completed.stdout


def test_a_missing_submission_is_a_usage_error_and_writes_no_report(tmp_path: Path):
    report = tmp_path / "report.json"
    completed = run_pytest(str(COUNTER.hidden_suite_dir), "--submission", str(tmp_path / "nowhere"),
                           "--report-json", str(report), cwd=tmp_path)
    assert completed.returncode == 4
    assert completed.stderr.strip().splitlines() == [
        f"ERROR: --submission {tmp_path / 'nowhere'}: no such folder; give the student repository,"
        " the folder that holds exercises/<id>/<module>.py"
    ]
    assert not report.exists()


def test_a_submission_laid_out_wrongly_is_a_usage_error_and_writes_no_report(tmp_path: Path):
    repository = tmp_path / "student"
    (repository / "counter.py").parent.mkdir()
    (repository / "counter.py").write_text("")  # beside exercises/, not inside it
    report = tmp_path / "report.json"
    completed = run_pytest(str(COUNTER.hidden_suite_dir), "--submission", str(repository),
                           "--report-json", str(report), cwd=tmp_path)
    assert completed.returncode == 4
    assert completed.stderr.strip().splitlines() == [
        f"ERROR: --submission {repository}: expected {repository}/exercises/01_race_condition/counter.py;"
        " give the student repository, laid out as exercises/<id>/<module>.py"
    ]
    assert not report.exists()


def test_the_header_names_the_students_files(tmp_path: Path):
    suite = hidden_suite(tmp_path, '@pytest.mark.group("correctness")\ndef test_a():\n    pass\n')
    submission(tmp_path / "student", "")
    completed = run_pytest(str(suite), "--submission", "student", cwd=tmp_path)
    assert f"{HEADER} the student's files in student;" in completed.stdout
    protections = "; ".join(f"{name}: {state}" for name, state in protections_in_force().items())
    assert f"protections: {protections}" in completed.stdout


def test_the_replay_command_names_the_test_with_its_parameters_and_a_relative_submission(tmp_path: Path):
    suite = hidden_suite(tmp_path, (
        '@pytest.mark.group("races")\n'
        '@pytest.mark.parametrize("probe", ["a-b", "c"])\n'
        'def test_race(probe, schedules):\n'
        '    assert probe == "c", schedules.replay_hint()\n'
    ))
    submission(tmp_path / "student", "")
    here = tmp_path / "grading"
    here.mkdir()
    swept = run_pytest(str(suite), "--submission", "../student", "--seed-sweep", "2", "-q", cwd=here)
    expected = ('python -m pytest "../tests/01_race_condition/test_fake.py::test_race[a-b]" --seed 2'
                ' --submission "../student"')
    assert f"to see these thread switches again, run: {expected}" in swept.stdout
    replayed = run_pytest(*expected.split(" ", 3)[3].replace('"', "").split(), "-q", cwd=here)
    assert "1 failed" in replayed.stdout, replayed.stdout
    assert f"again, run: {expected}" in replayed.stdout


def test_a_skipped_test_leaves_its_group_not_measured_and_unknown_groups_are_reported(tmp_path: Path):
    suite = hidden_suite(tmp_path, (
        '@pytest.mark.group("correctness")\ndef test_a():\n    pass\n\n'
        '@pytest.mark.group("concurrency")\ndef test_b():\n    pass\n\n'
        '@pytest.mark.group("concurrency")\ndef test_c():\n'
        '    pytest.skip("the machine was too busy to measure a speedup")\n\n'
        '@pytest.mark.group("racse")\ndef test_d():\n    pass\n'
    ))
    report_path = tmp_path / "report.json"
    completed = run_pytest(str(suite), "--report-json", str(report_path), cwd=tmp_path)
    [exercise] = json.loads(report_path.read_text())["exercises"]
    groups = {group["name"]: group for group in exercise["groups"]}
    assert (groups["correctness"]["points"], groups["concurrency"]["points"]) == (2, 0)
    assert groups["concurrency"]["note"] == (
        "not measured: the machine was too busy to measure a speedup; ask for a regrade")
    assert groups["racse"]["status"] == "unknown group" and groups["racse"]["max_points"] == 0
    assert "    concurrency: not measured: the machine was too busy" in completed.stdout
    assert "    racse: exercises.toml has no such group" in completed.stdout


def test_a_suspicious_source_keeps_its_points_and_is_flagged(tmp_path: Path):
    suite = hidden_suite(tmp_path, '@pytest.mark.group("correctness")\ndef test_a():\n    pass\n')
    student = submission(tmp_path / "student", "import sys\n\n\ndef f():\n    sys.settrace(None)\n")
    report_path = tmp_path / "report.json"
    completed = run_pytest(str(suite), "--submission", str(student), "--report-json", str(report_path), cwd=tmp_path)
    report = json.loads(report_path.read_text())
    [exercise] = report["exercises"]
    evidence = "counter.py:5: sys.settrace (tracing and frame access): no solution of this exercise needs it"
    assert exercise["integrity"] == {"status": "suspicious", "evidence": [evidence]}
    assert exercise["points"] == 2
    assert "01_race_condition: 2/10 [suspicious] (correctness 2/2, races 0/5, concurrency 0/3)" in completed.stdout
    assert f"    suspicious: {evidence}" in completed.stdout
    assert report["protections"] == protections_in_force()


def test_the_reference_solutions_scan_clean(tmp_path: Path):
    suite = hidden_suite(tmp_path, '@pytest.mark.group("correctness")\ndef test_a():\n    pass\n')
    report_path = tmp_path / "report.json"
    run_pytest(str(suite), "--report-json", str(report_path), cwd=tmp_path)
    [exercise] = json.loads(report_path.read_text())["exercises"]
    assert exercise["integrity"] == {"status": "clean", "evidence": []}


def test_a_run_of_a_hidden_suite_from_the_kit_root_brings_the_kit_in():
    completed = run_pytest("--collect-only", os.path.relpath(COUNTER.hidden_suite_dir, KIT_ROOT), cwd=KIT_ROOT)
    assert completed.returncode == 0, completed.stdout
    assert f"{HEADER} the reference solutions (solutions/)" in completed.stdout


def test_a_test_cut_short_counts_as_an_error_and_fails_its_group(tmp_path: Path):
    suite = hidden_suite(tmp_path, (
        '@pytest.mark.group("correctness")\ndef test_a():\n    assert False, "wrong"\n\n'
        '@pytest.mark.group("races")\ndef test_b():\n    pass\n\n'
        '@pytest.mark.group("races")\ndef test_c():\n    pass\n'
    ))
    report = tmp_path / "report.json"
    run_pytest(str(suite), "-x", "--report-json", str(report), cwd=tmp_path)  # stops after test_a
    [exercise] = json.loads(report.read_text())["exercises"]
    races = next(group for group in exercise["groups"] if group["name"] == "races")
    assert (races["points"], races["status"]) == (0, "failed")
    assert {test["name"]: test["status"] for test in races["tests"]} == {"test_b": "error", "test_c": "error"}
    assert "never reported a result" in races["tests"][0]["message"]


def test_timing_tests_hold_the_lock_alone(tmp_path: Path):
    """With --timing-lock, a test marked `timing` runs only while no other test holds the lock."""
    suite = hidden_suite(tmp_path, (
        'import fcntl, os, sys\n\n'
        'def lock_is_free_for(mode):\n'
        '    descriptor = os.open(os.environ["KIT_LOCK"], os.O_RDWR)\n'
        '    try:\n'
        '        fcntl.flock(descriptor, mode | fcntl.LOCK_NB)\n'
        '        return True\n'
        '    except BlockingIOError:\n'
        '        return False\n'
        '    finally:\n'
        '        os.close(descriptor)\n\n'
        '@pytest.mark.group("correctness")\ndef test_plain():\n'
        '    assert lock_is_free_for(fcntl.LOCK_SH) and not lock_is_free_for(fcntl.LOCK_EX)\n\n'
        '@pytest.mark.group("races")\n@pytest.mark.timing\ndef test_timing():\n'
        '    assert not lock_is_free_for(fcntl.LOCK_SH)\n'
    ))
    lock = tmp_path / "timing.lock"
    report = tmp_path / "report.json"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(suite), "--timing-lock", str(lock),
         "--report-json", str(report)],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "KIT_LOCK": str(lock)})
    assert json.loads(report.read_text())["points"] == COUNTER.points["correctness"] + COUNTER.points["races"], \
        completed.stdout
