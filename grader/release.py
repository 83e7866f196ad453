"""The student's template repository, generated from the manifest.

It holds what a student needs and nothing of the grading: each exercise's stub, README and
visible tests, the student runtime (student_runtime/), a pyproject.toml that installs the
runtime with pytest, pytest-timeout and httpx only, a README and a .gitignore. Solutions,
hidden suites, mutants, the grader and the benchmark stay in the kit.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from grader.manifest import KIT_ROOT, Exercise, kit_version

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
dependencies = ["pytest>=7.4", "pytest-timeout>=2.2", "httpx>=0.25"]

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
"""

README = """\
# Python concurrency exercises

{count} exercises on Python concurrency, one folder each under `exercises/`. In each you
complete one module; the folder's README says what to build, and its visible tests tell you
within seconds whether it works, races included.

## Set up

```bash
python -m venv .venv && source .venv/bin/activate    # Windows: .venv\\Scripts\\activate
python -m pip install -e .
```

## Work on an exercise

```bash
python -m pytest exercises/{first}    # one exercise
python -m pytest                      # every exercise
```

A failed race check prints a seed and the command that replays the same interleavings:
`python -m pytest <test> --seed N`.

| exercise | topic |
| --- | --- |
{table}

Change only the module each README names: your grade comes from the instructor's own tests,
run on those files.
"""


def release(out: Path, exercises: Sequence[Exercise]) -> list[Path]:
    """Write the template repository into `out` (which must not exist, or be empty) and
    return the files written, relative to it."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give a new folder for the release")
    for exercise in exercises:
        for source in sorted(exercise.stub_dir.iterdir()):
            if source.is_file() and not source.name.endswith(".pyc"):
                _copy(source, out / "exercises" / exercise.id / source.name)
    for source in sorted(RUNTIME.glob("*.py")):
        _copy(source, out / "student_runtime" / source.name)
    (out / "pyproject.toml").write_text(
        PYPROJECT.format(version=kit_version(), timeout=VISIBLE_TEST_TIMEOUT), encoding="utf-8")
    (out / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    table = "\n".join(f"| `{e.id}` | {e.title} |" for e in exercises)
    (out / "README.md").write_text(README.format(count=len(exercises), first=exercises[0].id, table=table),
                                   encoding="utf-8")
    return sorted(path.relative_to(out) for path in out.rglob("*") if path.is_file())


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
