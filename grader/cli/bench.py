"""`python -m grader bench`: measure the suites' speed and the stability of their verdicts.

A timed unit test would flake on a shared machine; the goals live here instead, as figures:

* time of each hidden suite and of the visible tests against the reference (goals 15 s, 10 s);
* verdicts: the reference passes N of N runs of its hidden suite, and every mutant fails its
  named test in N of N runs;
* stability of the points: the reference and every mutant graded N times (default 10), each
  time by a fresh pytest process running the whole hidden suite, as a grading run does; the
  goal is the same points in every group, and the same integrity status, every time;
* race checks: detection rate of each race mutant over 100 seeds, false alarms over 200
  seeded runs of the reference;
* speedup checks while a noisy neighbour (a process busy half the time on one core) runs:
  the reference passes every run, the mutants that lack parallelism fail every run;
* grading throughput (`--throughput N`): a class of N made of the kit's own files (see
  grader/batch/sample.py) graded by the batch grader with one job and with the default
  jobs; the goal is 20 s per student or less with the default, and identical grades;
* the student's side (`--student-side`), in a released template: the visible tests of each
  exercise on each of its mutants (goal: 10 s or less on wrong code too), how many failed race
  checks tell the story of their interleaving and how many deadlocks name their cycle (goal:
  all), and `status` on the stubs, the references and a mix (goal: 10 s or less).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader.batch.discover import discover
from grader.batch.run import TIMING_LOCK, ClassGrading, grade_class
from grader.batch.sample import sample_class
from grader.batch.visible import STUDENT_PYTEST
from grader.harness.timing import usable_cores
from grader.manifest import Exercise, load_exercises
from grader.release import release
from grader.runner import SuiteRun, measured_again, run_hidden_suites, submission_with

_RUN_NUMBER = re.compile(r"(?:run|seed)(\d+)")

NOISY_NEIGHBOUR = """
import time
while True:  # busy for 50 ms, idle for 50 ms: about half of one core
    until = time.perf_counter() + 0.05
    while time.perf_counter() < until:
        pass
    time.sleep(0.05)
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("bench", help="measure suite times and verdict stability")
    parser.add_argument("--exercise", action="append", help="only this exercise (repeatable)")
    parser.add_argument("--runs", type=int, default=20, help="runs per verdict (default 20)")
    parser.add_argument("--race-seeds", type=int, default=100, help="seeds per race mutant (default 100)")
    parser.add_argument("--gradings", type=int, default=10,
                        help="gradings per candidate in the stability table (default 10)")
    parser.add_argument("--stability-only", action="store_true",
                        help="measure only the stability table (keeps the other tables of earlier runs)")
    parser.add_argument("--throughput", type=int, default=None, metavar="N",
                        help="measure only the grading throughput of a class of N (keeps the other tables)")
    parser.add_argument("--student-side", action="store_true",
                        help="measure only the visible tests on wrong code and the student's commands"
                             " (keeps the other tables)")
    parser.add_argument("--output", type=Path, default=Path("benchmark.md"), help="where to write the table")
    parser.set_defaults(run=run)


def verdicts_per_run(run: SuiteRun, only: str | None = None) -> Counter[str]:
    """'pass', 'fail' or 'skip' for each numbered run (a run fails if any of its tests failed),
    counting only the test named `only` if given."""
    per_run: dict[str, set[str]] = {}
    for exercise in run.report["exercises"]:
        for group in exercise["groups"]:
            for test in group["tests"]:
                if only is not None and test["name"].split("[")[0] != only:
                    continue
                number = _RUN_NUMBER.search(test["name"])
                key = number.group(1) if number else test["name"]
                per_run.setdefault(key, set()).add(test["status"])
    verdicts: Counter[str] = Counter()
    for statuses in per_run.values():
        if statuses & {"fail", "error"}:
            verdicts["fail"] += 1
        elif "skip" in statuses:
            verdicts["skip"] += 1
        else:
            verdicts["pass"] += 1
    return verdicts


@contextmanager
def noisy_neighbour() -> Iterator[None]:
    process = subprocess.Popen([sys.executable, "-c", NOISY_NEIGHBOUR])
    try:
        yield
    finally:
        process.kill()
        process.wait()


def _timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def _visible_suite_seconds(exercise: Exercise) -> tuple[bool, float]:
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "exercises" / exercise.id
        folder.mkdir(parents=True)
        for test in exercise.stub_dir.glob("test_*.py"):
            folder.joinpath(test.name).write_bytes(test.read_bytes())
        submission_with(exercise, exercise.module_file(), Path(root))
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                                   capture_output=True, cwd=root)
        return completed.returncode == 0, time.perf_counter() - started


def _against_mutant(exercise: Exercise, mutant: Path, test: str, extra_args: Sequence[str]) -> SuiteRun:
    with tempfile.TemporaryDirectory() as root:
        return run_hidden_suites([exercise], submission_with(exercise, mutant, Path(root)),
                                 select=test, extra_args=extra_args)


def _fmt(verdicts: Counter[str], total: int) -> str:
    text = f"{verdicts['pass']}/{total} pass, {verdicts['fail']}/{total} fail"
    return text + (f", {verdicts['skip']} skipped" if verdicts["skip"] else "")


def tests_in_group(run: SuiteRun, group_name: str) -> set[str]:
    """Names (without parameters) of the tests of one points group that ran."""
    return {
        test["name"].split("[")[0]
        for exercise in run.report["exercises"]
        for group in exercise["groups"] if group["name"] == group_name
        for test in group["tests"]
    }


def bench_exercise(exercise: Exercise, runs: int, race_seeds: int, gradings: int) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {"times": [], "verdicts": [], "stability": [], "races": [], "speedup": []}
    once, seconds = _timed(run_hidden_suites, [exercise])
    visible_ok, visible_seconds = _visible_suite_seconds(exercise)
    rows["times"].append([exercise.id, f"{seconds:.1f}", "pass" if once.exit_code == 0 else "FAIL",
                          f"{visible_seconds:.1f}", "pass" if visible_ok else "FAIL"])
    speedup_tests = tests_in_group(once, "speedup")

    reference = run_hidden_suites([exercise], extra_args=["--repeat", str(runs)])
    rows["verdicts"].append([exercise.id, "reference", "(whole suite)", _fmt(verdicts_per_run(reference), runs)])
    for mutant in exercise.mutants():
        test = mutant.caught_by
        if test is None:
            raise ValueError(f"{mutant.path} does not name the test that catches it ('Caught by: ...')")
        verdicts = verdicts_per_run(_against_mutant(exercise, mutant.path, test, ["--repeat", str(runs)]))
        rows["verdicts"].append([exercise.id, mutant.name, test, _fmt(verdicts, runs)])
        race_run = _against_mutant(exercise, mutant.path, test, ["-m", "race", "--seed-sweep", str(race_seeds)])
        if _ran_any_test(race_run):
            race = verdicts_per_run(race_run)
            rows["races"].append([exercise.id, mutant.name, test, f"{race['fail']}/{race_seeds} detected"])
        timing_tests = sorted(({test} & speedup_tests) | set(mutant.timing_checks))
        if timing_tests:
            rows["speedup"] += _speedup_rows(exercise, mutant.name, mutant.path, timing_tests, runs)

    false_alarms = run_hidden_suites([exercise], extra_args=["-m", "race", "--seed-sweep", str(2 * race_seeds)])
    if _ran_any_test(false_alarms):
        verdicts = verdicts_per_run(false_alarms)
        rows["races"].append([exercise.id, "reference", "(every race check)",
                              f"{verdicts['fail']}/{2 * race_seeds} false alarms"])
    if speedup_tests:
        rows["speedup"] += _speedup_rows(exercise, "reference", None, sorted(speedup_tests), runs)
    rows["stability"] = stability_rows(exercise, gradings)
    return rows


# -- stability of the points ----------------------------------------------------------------

Grade = tuple[tuple[tuple[str, int], ...], str]  # (points per group, integrity status)


def grade(run: SuiteRun) -> Grade:
    """What one grading run gave the (one) exercise it graded."""
    [report] = run.report["exercises"]
    return tuple((group["name"], group["points"]) for group in report["groups"]), report["integrity"]["status"]


def stability_rows(exercise: Exercise, gradings: int) -> list[list[str]]:
    """Grade the reference and every mutant `gradings` times each, interleaved (grading i of
    every candidate, then grading i + 1), so that a busy spell of the machine falls on all of
    them alike rather than on one; one row per candidate."""
    candidates: list[tuple[str, Path | None]] = [("reference", None)]
    candidates += [(mutant.name, mutant.path) for mutant in exercise.mutants()]
    grades: dict[str, list[Grade]] = {name: [] for name, _ in candidates}
    for _ in range(gradings):
        for name, module_source in candidates:
            grades[name].append(grade(_graded(exercise, module_source)))
    return [[exercise.id, name, *describe_grades(grades[name], exercise.max_points)] for name, _ in candidates]


def _graded(exercise: Exercise, module_source: Path | None) -> SuiteRun:
    """One grading as the batch grader gives it: measured again, alone, when the machine was too busy."""
    lock = TIMING_LOCK if os.name == "posix" else None
    with tempfile.TemporaryDirectory() as root:
        submission = None if module_source is None else submission_with(exercise, module_source, Path(root))
        first = run_hidden_suites([exercise], submission)
        return measured_again(first, [exercise], lambda again: run_hidden_suites([again], submission), lock)


def describe_grades(grades: list[Grade], max_points: int) -> list[str]:
    """[identical runs, points seen, groups whose points changed] for one candidate."""
    counts = Counter(grades)
    [(commonest, identical)] = counts.most_common(1)
    seen = ", ".join(
        f"{sum(points for _, points in groups)}/{max_points}"
        + (f" [{integrity}]" if integrity != "clean" else "")
        + (f" x{count}" if len(counts) > 1 else "")
        for (groups, integrity), count in counts.most_common()
    )
    changed = sorted({name for groups, _ in counts for name, points in groups
                      if points != dict(commonest[0])[name]})
    if len({integrity for _, integrity in counts}) > 1:
        changed.append("integrity")
    return [f"{identical}/{len(grades)}", seen, ", ".join(changed) or "none"]


def _ran_any_test(run: SuiteRun) -> bool:
    return any(group["tests"] for report in run.report["exercises"] for group in report["groups"])


def _speedup_rows(exercise: Exercise, candidate: str, mutant: Path | None, tests: list[str], runs: int) -> list[list[str]]:
    """Each timing test's verdicts over `runs` runs of the reference (mutant None) or of a
    mutant, while a noisy neighbour runs."""
    select, repeat = " or ".join(tests), ["--repeat", str(runs)]
    with noisy_neighbour():
        run = (run_hidden_suites([exercise], select=select, extra_args=repeat) if mutant is None
               else _against_mutant(exercise, mutant, select, repeat))
    return [[exercise.id, candidate, test, _fmt(verdicts_per_run(run, test), runs)] for test in tests]


TABLES = {
    "times": ("Suite times against the reference (goals: hidden <= 15 s, visible <= 10 s)",
              ["exercise", "hidden suite s", "verdict", "visible tests s", "verdict"]),
    "verdicts": ("Verdicts of the named test (goal: reference passes every run, each mutant fails every run)",
                 ["exercise", "candidate", "test", "verdicts"]),
    "stability": ("Stability of the points: each candidate graded by its whole hidden suite again and"
                  " again (goal: identical points per group in every grading)",
                  ["exercise", "candidate", "identical gradings", "points", "groups that changed"]),
    "races": ("Race checks over seeded runs (goal: 100% detection, 0 false alarms)",
              ["exercise", "candidate", "test", "result"]),
    "speedup": ("Speedup checks with a noisy neighbour busy half of one core (goal: the reference"
                " passes every run, each mutant fails every run)",
                ["exercise", "candidate", "test", "verdicts"]),
    "visible": ("Visible tests of each exercise on each of its mutants, in a released template (goals: 10 s"
                " or less; every failed race check tells its interleaving, every deadlock names its cycle)",
                ["exercise", "mutants", "median s", "slowest", "race failures with a story",
                 "deadlocks with their cycle"]),
    "status": ("`python -m student_runtime status` in a released template (goal: 10 s or less)",
               ["exercise files", "seconds (best of 3)", "states"]),
    "throughput": ("Grading throughput: a class made of the kit's own files, every exercise (goal: 20 s per"
                   " student or less with the default jobs, and the same grades with one job)",
                   ["students", "jobs", "seconds", "seconds per student", "grader failures",
                    "grades identical to 1 job"]),
}


def throughput_rows(class_size: int) -> list[list[str]]:
    """Grade one sample class with 1 job and with the default, each from scratch."""
    exercises = load_exercises()
    rows, grades = [], {}
    with tempfile.TemporaryDirectory() as root:
        submissions = discover(sample_class(exercises, Path(root) / "class", class_size))
        for jobs in dict.fromkeys((1, usable_cores())):
            grading = ClassGrading(exercises, Path(root) / f"out-{jobs}", force=True)
            graded, seconds = _timed(grade_class, grading, submissions, jobs, lambda graded: None)
            grades[jobs] = [(g.results["student"], [e["points"] for e in g.results["exercises"]]) for g in graded]
            failures = sum(g.state == "grader failure" for g in graded)
            rows.append([str(len(submissions)), str(jobs), f"{seconds:.0f}", f"{seconds / len(submissions):.1f}",
                         str(failures), "yes" if grades[jobs] == grades[1] else "NO"])
            print(f"  {jobs} job(s): {seconds:.0f} s", flush=True)
    return rows


# A failed visible race check, and one that tells its story; a deadlock, and one naming its cycle.
_RACE_FAILURE = "thread switches again"
_STORY = re.compile(r"was paused in")
_DEADLOCK = re.compile(r"^\S*:\d+: deadlock: |^deadlock: ")
_CYCLE = re.compile(r" holds .* waits for ")


def student_side_rows(exercises: Sequence[Exercise]) -> tuple[list[list[str]], list[list[str]]]:
    """The visible tests on every mutant, and `status`, in a release of `exercises`, run as a
    student runs them (the kit's own plugin left out)."""
    environment = {**os.environ, "PYTEST_ADDOPTS": STUDENT_PYTEST}
    visible, status = [], []
    with tempfile.TemporaryDirectory() as root:
        template, copy = Path(root) / "template", Path(root) / "copy"
        release(template, exercises)

        def fresh(modules: Sequence[tuple[Exercise, Path]]) -> Path:
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(template, copy)
            for exercise, module in modules:
                shutil.copyfile(module, exercise.module_file(copy))
            return copy

        for exercise in exercises:
            seconds, races, deadlocks = {}, [0, 0], [0, 0]
            for mutant in exercise.mutants():
                completed, seconds[mutant.name] = _timed(
                    subprocess.run, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                     f"exercises/{exercise.id}"],
                    cwd=fresh([(exercise, mutant.path)]), env=environment, capture_output=True, text=True, timeout=900)
                for line in completed.stdout.splitlines():
                    if _RACE_FAILURE in line:
                        races[0], races[1] = races[0] + bool(_STORY.search(line)), races[1] + 1
                    elif _DEADLOCK.search(line):
                        deadlocks[0], deadlocks[1] = deadlocks[0] + bool(_CYCLE.search(line)), deadlocks[1] + 1
            slowest = max(seconds, key=seconds.get)
            visible.append([exercise.id, str(len(seconds)), f"{statistics.median(seconds.values()):.1f}",
                            f"{slowest} {seconds[slowest]:.1f} s", f"{races[0]} of {races[1]}",
                            f"{deadlocks[0]} of {deadlocks[1]}"])
            print(f"  {exercise.id}: slowest {slowest} {seconds[slowest]:.1f} s", flush=True)
        candidates = {
            "untouched stubs": [],
            "references": [(exercise, exercise.module_file()) for exercise in exercises],
            "a mutant per exercise": [(exercise, exercise.mutants()[0].path) for exercise in exercises],
        }
        for name, modules in candidates.items():
            root_copy = fresh(modules)
            times, output = [], ""
            for _ in range(3):
                completed, took = _timed(subprocess.run, [sys.executable, "-m", "student_runtime", "status"],
                                         cwd=root_copy, env=environment, capture_output=True, text=True, timeout=300)
                times.append(took)
                output = completed.stdout
            rows = [line for line in output.splitlines() if any(line.startswith(e.id) for e in exercises)]
            states = Counter(state for state in ("not started", "failing", "passing")
                             for line in rows if f" {state} " in f"{line} ")
            status.append([name, f"{min(times):.1f}", ", ".join(f"{count} {state}" for state, count in states.items())])
    return visible, status


def render(rows: dict[str, list[list[str]]], header: str) -> str:
    lines = [header, ""]
    for key, (title, columns) in TABLES.items():
        if not rows[key]:
            continue
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in rows[key]]
        lines.append("")
    return "\n".join(lines)


def run(arguments: argparse.Namespace) -> int:
    """Bench the chosen exercises and merge their tables into the results of earlier runs, so
    that one exercise, or one table, can be measured again without measuring everything."""
    results_path = arguments.output.with_suffix(".json")
    results = _load_results(results_path)
    if arguments.student_side:
        print("measuring the student's side in a released template ...", flush=True)
        visible, status = student_side_rows([e for e in load_exercises()
                                             if not arguments.exercise or e.id in arguments.exercise])
        results["student_side"] = {"measured": f"Python {sys.version.split()[0]}, {usable_cores()} usable cores",
                                   "rows": {"visible": visible, "status": status}}
        results_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if arguments.throughput:
        print(f"grading a sample class of {arguments.throughput} ...", flush=True)
        results["throughput"] = {"measured": f"Python {sys.version.split()[0]}, {usable_cores()} usable cores",
                                 "rows": throughput_rows(arguments.throughput)}
        results_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    for exercise in load_exercises():
        chosen = not arguments.exercise or exercise.id in arguments.exercise
        if arguments.throughput or arguments.student_side or not chosen:
            continue
        print(f"benchmarking {exercise.id} ...", flush=True)
        started = time.perf_counter()
        if arguments.stability_only:
            tables, measured = {"stability": stability_rows(exercise, arguments.gradings)}, "stability"
        else:
            tables = bench_exercise(exercise, arguments.runs, arguments.race_seeds, arguments.gradings)
            measured = "all tables"
        entry = results.setdefault(exercise.id, {"measured": {}, "tables": {}})
        entry["tables"].update(tables)
        counted = f"{arguments.gradings} gradings per candidate"
        if measured == "all tables":
            counted = f"{arguments.runs} runs per verdict, {counted}"
        entry["measured"][measured] = (f"Python {sys.version.split()[0]}, {usable_cores()} usable cores, {counted},"
                                       f" {time.perf_counter() - started:.0f} s")
        results_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    merged: dict[str, list[list[str]]] = {key: [] for key in TABLES}
    notes = []
    for exercise in load_exercises():
        if exercise.id in results:
            measured = results[exercise.id]["measured"]
            notes.append(f"- {exercise.id}: " + "; ".join(f"{what}: {note}" for what, note in measured.items()))
            for key in TABLES:
                merged[key] += results[exercise.id]["tables"].get(key, [])
    if "student_side" in results:
        notes.append(f"- the student's side: {results['student_side']['measured']}")
        merged.update(results["student_side"]["rows"])
    if "throughput" in results:
        notes.append(f"- grading throughput: {results['throughput']['measured']}")
        merged["throughput"] = results["throughput"]["rows"]
    table = render(merged, "# Benchmark\n\nWritten by `python -m grader bench`. Measured:\n" + "\n".join(notes))
    print(table)
    arguments.output.write_text(table + "\n", encoding="utf-8")
    print(f"written to {arguments.output} (rows kept in {results_path.name})")
    return 0


def _load_results(path: Path) -> dict[str, Any]:
    """The tables of earlier runs, by exercise. A file written before the stability table kept
    the verdicts table under "stability" and one note per exercise; it is read as such."""
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8"))
    for key, entry in results.items():
        if key not in ("throughput", "student_side") and "rows" in entry:
            tables = entry.pop("rows")
            tables["verdicts"] = tables.pop("stability", [])
            entry["tables"], entry["measured"] = tables, {"all tables": entry["measured"]}
    return results
