"""The student's template repository, generated from the manifest.

It holds what a student needs and nothing of the grading: each exercise's stub, README and
visible tests, the student runtime (student_runtime/), a pyproject.toml that installs the
runtime with pytest, pytest-timeout and httpx only, a README, a .gitignore, the autograding
workflow (workflow.py) and exercises.json, which lists the exercises, their visible tests and
the SHA-256 of every file the autograder relies on. Solutions, hidden suites, mutants, the
grader and the benchmark stay in the kit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.manifest import KIT_ROOT, Exercise, kit_version
from grader.release.workflow import WORKFLOW_PATH, autograde_workflow
from student_runtime.exercises import LISTING, ExerciseInfo, Listing, sha256_of

RUNTIME = KIT_ROOT / "student_runtime"
# Seconds one visible test may take before pytest-timeout calls it hung (a deadlock, usually).
VISIBLE_TEST_TIMEOUT = 60

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "concurrency-exercises"
version = "{version}"
description = "Exercises on Python concurrency: threads, locks, semaphores, events, queues, processes and futures."
requires-python = ">=3.10"
dependencies = ["pytest>=7.4", "pytest-timeout>=2.2", "httpx>=0.25", "watchfiles>=0.21"]

[project.entry-points.pytest11]
concurrency_kit_runtime = "student_runtime.plugin"

[tool.setuptools.packages.find]
include = ["student_runtime*"]

[tool.pytest.ini_options]
testpaths = ["exercises"]
addopts = "-ra -p no:cacheprovider"
timeout = {timeout}
"""

GITIGNORE = """\
__pycache__/
*.py[cod]
*.egg-info/
.venv/
build/
autograde-results/
autograde-results.json
.hints-seen.json
"""

README = """\
# Python concurrency exercises

{count} exercises on Python concurrency, one folder each under `exercises/`. In each you
complete one module; the folder's README says what to build, and its visible tests tell you
within seconds whether it works, races included.

## Set up

```bash
git clone <your repository's URL> && cd <its folder>
python -m venv .venv && source .venv/bin/activate    # Windows: .venv\\Scripts\\activate
python -m pip install -e .
```

## Work on an exercise

```bash
python -m pytest exercises/{first}    # one exercise
python -m pytest                      # every exercise
```

| exercise | topic |
| --- | --- |
{table}

The same, with help along the way (NN is the exercise's number, such as `01`):

```bash
python -m student_runtime status      # every exercise: not started, failing or passing, and the next one
python -m student_runtime hint NN     # the next hint for exercise NN, one at a time
python -m student_runtime check NN    # its tests, then what failed and why in a few lines
python -m student_runtime watch NN    # rerun its tests each time you save its file (Ctrl-C stops)
```

A failure says what went wrong in plain words, at the test's line. When a race check loses an
update, it tells the interleaving that lost it, in your own lines, and the command that shows
the same thread switches again (`--seed N`):

```
lost update: 4 threads x 200 increments gave 345, expected 800. Thread-4 was paused in the middle of
`counter.py:14 self._value += amount`, between its read and its write; meanwhile Thread-2 ran that
line 5 times; Thread-4 then resumed and wrote back a value it had read before those 5 updates.
(to see these thread switches again, run: python -m pytest "exercises/01_race_condition/test_counter.py::test_no_update_is_lost_under_forced_interleavings" --seed 1)
```

When another thread sees a change half done, the story says where it looked:

```
money in flight: total() returned [2998, 2999] in 237 of 1611 calls while transfers ran, instead of
3000. total() must not add up the balances while a transfer is half done. Thread-1 ran `bank.py:36
self._balances[src] -= amount`, then was paused in the middle of that change, before `bank.py:37
self._balances[dst] += amount`; meanwhile Thread-2 ran `bank.py:40 return sum(self._balances.values())`
4 times and saw it half done (in flight); Thread-1 then resumed and finished it.
```

A race check that goes wrong just the same with no thread switch forced says so ("it does not
depend on how the threads interleave") and prints no replay command: that mistake shows on every run.

When threads wait for each other's locks, the check stops at once and names the cycle:

```
deadlock: Thread-1 holds the lock of account "alice" (bank.py:33) and waits for the lock of
"bob" (bank.py:33), while Thread-2 holds "bob" and waits for "alice": each waits for the other
forever. Take the locks in one global order, or use one lock for the whole bank.
```

Change only the module each README names: your grade comes from your instructor's own tests,
run on those files.

## What the autograder shows on each push

Every push runs the visible tests of each exercise on GitHub Actions (the Actions tab of your
repository). The run's summary has a table: each exercise, its points (one per visible test)
and what failed, in the tests' own words; the last line is your total. Each failure is also
marked on your file, at the line where it happened when that is known. A run stays red until
every visible test passes.

If you edit a test file or `.github/workflows/autograde.yml`, the summary says so and that
exercise scores 0 there: restore the file with git. The autograder shows your progress; your
grade comes from your instructor's tests.
"""


def release(out: Path, exercises: Sequence[Exercise], *, classroom_reporter: bool = False) -> list[Path]:
    """Write the template repository into `out` (which must not exist, or be empty) and
    return the files written, relative to it. `classroom_reporter` adds GitHub Classroom's
    reporter as the workflow's last step."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give a new folder for the release")
    for exercise in exercises:
        for source in sorted(exercise.stub_dir.iterdir()):
            if source.is_file() and not source.name.endswith(".pyc"):
                _copy(source, out / "exercises" / exercise.id / source.name)
    for source in sorted(RUNTIME.rglob("*.py")):
        _copy(source, out / "student_runtime" / source.relative_to(RUNTIME))
    (out / "pyproject.toml").write_text(
        PYPROJECT.format(version=kit_version(), timeout=VISIBLE_TEST_TIMEOUT), encoding="utf-8")
    (out / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    table = "\n".join(f"| `{e.id}` | {e.title} |" for e in exercises)
    (out / "README.md").write_text(README.format(count=len(exercises), first=exercises[0].id, table=table),
                                   encoding="utf-8")
    infos = student_infos(out, exercises)
    workflow = out / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True)
    workflow.write_text(autograde_workflow(infos, classroom_reporter=classroom_reporter), encoding="utf-8")
    listing = Listing(tuple(infos), {WORKFLOW_PATH: sha256_of(workflow)}, kit_version())
    (out / LISTING).write_text(json.dumps(listing.as_json(), indent=2) + "\n", encoding="utf-8")
    return sorted(path.relative_to(out) for path in out.rglob("*") if path.is_file())


def student_infos(out: Path, exercises: Sequence[Exercise]) -> list[ExerciseInfo]:
    """What exercises.json says of each exercise: the manifest's id, module, title and hints,
    the visible tests as the kit collects them, and the SHA-256 of each released test file."""
    tests = visible_test_ids(exercises)
    infos = []
    for exercise in exercises:
        folder = out / "exercises" / exercise.id
        test_files = {path.relative_to(out).as_posix(): sha256_of(path) for path in sorted(folder.glob("test_*.py"))}
        infos.append(ExerciseInfo(exercise.id, exercise.module, exercise.title, exercise.hints,
                                  tuple(t for t in tests if t.startswith(f"exercises/{exercise.id}/")), test_files))
    return infos


def visible_test_ids(exercises: Sequence[Exercise]) -> list[str]:
    """The ids of the visible tests, collected in the kit (against the reference)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *(f"exercises/{exercise.id}" for exercise in exercises)],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    ids = [line.strip() for line in run.stdout.splitlines() if line.startswith("exercises/") and "::" in line]
    if run.returncode != 0 or not ids:
        raise RuntimeError(f"collecting the visible tests failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}")
    return ids


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
