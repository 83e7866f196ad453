"""Gradescope: a student's results in Gradescope's results.json, and the autograder zip.

Gradescope builds an image from the zip once: the zip's files land in /autograder/source and
setup.sh runs there, as root. Each submission then runs on a machine of its own:
/autograder/run_autograder grades /autograder/submission and must leave
/autograder/results/results.json, the only thing Gradescope shows the student.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.batch.results import for_the_student
from grader.manifest import Exercise

# Names the interpreter run_autograder grades with, where setup.sh has not made its venv (the
# kit's tests, a trial run on an instructor's machine); Gradescope leaves it unset.
PYTHON_VARIABLE = "CONCURRENCY_KIT_PYTHON"

# Fixed timestamps make the same kit give the same zip, byte for byte.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SKIPPED = ("A skipped test earns no points, and neither does its group:"
            " ask your instructor for a regrade.")

_SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$kit")"
apt-get update
apt-get install -y python3 python3-pip python3-venv
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the kit needs Python 3.10 or newer; choose a newer Ubuntu base image" \\
         "in the autograder settings" >&2
    exit 1
fi
python3 -m venv "$root/venv"
# Editable: the kit finds exercises.toml, solutions/ and tests/ beside its own package.
"$root/venv/bin/pip" install -e "$kit"
# As root the sandbox runs the student's code as an unprivileged user, who must read the kit.
chmod -R a+rX "$kit" "$root/venv"
"""

# Filled in when the bundle is built: {variable} is PYTHON_VARIABLE, {exercises} the --exercise options.
_RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission, as $ROOT/run_autograder with ROOT=/autograder:
# it grades ROOT/submission with the kit in ROOT/source and leaves ROOT/results/results.json.
set -u
root="$(cd "$(dirname "$0")" && pwd)"
python="${{{variable}:-$root/venv/bin/python}}"
results="$root/results/results.json"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$root/results"
cd "$root/source"
"$python" -m grader grade "$root/submission" --out "$scratch/graded" --gradescope{exercises}
status=$?
# Whatever is at that path now (a file or a link planted while grading ran) is never what is read.
rm -f "$results"
if [ -f "$scratch/graded/submission/gradescope.json" ]; then
    cp "$scratch/graded/submission/gradescope.json" "$results"
else
    # Gradescope shows nothing without results.json: say that the grader, not the student, failed.
    message="The grader failed (exit code $status) before it wrote a result; this is not a verdict on"
    message="$message your code. Ask your instructor to look at this submission's autograder output."
    printf '{{"score": 0, "tests": [], "output": "%s"}}\\n' "$message" > "$results"
fi
exit 0
"""


def gradescope_results(results: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json for one student's results document (results.json, version 1).

    One Gradescope test per hidden test, in the document's order; a skipped test or an error
    is "failed" there, with the reason it earns nothing in its output.
    """
    exercises = {exercise["id"]: exercise for exercise in results["exercises"]}
    return {
        "score": results["points"],
        "max_score": results["max_points"],
        "execution_time": round(results["duration"]),
        "output": _summary(results),
        "tests": [_test(test, exercises[test["exercise"]]) for test in results["tests"]],
    }


def _summary(results: dict[str, Any]) -> str:
    lines = []
    if results.get("problem"):
        lines.append(f"Could not grade this submission: {results['problem']}")
    lines.append(f"{results['points']}/{results['max_points']} points")
    for exercise in results["exercises"]:
        integrity = exercise["integrity"]
        lines.append(f"{exercise['id']}: {exercise['points']}/{exercise['max_points']} [{integrity['status']}]"
                     + (f" {exercise['message']}" if exercise["message"] else ""))
        if integrity["status"] != "clean":
            lines.extend(f"    {evidence}" for evidence in integrity["evidence"])
    return "\n".join(lines)


def _test(test: dict[str, Any], exercise: dict[str, Any]) -> dict[str, Any]:
    output = [for_the_student(test["message"])] if test["message"] else []
    if test["status"] == "skip":
        output = [f"Skipped: {test['message'] or 'no reason given'}", _SKIPPED]
    elif test["status"] == "pass" and test["score"] < test["max_score"]:
        # A passing test earns its share only with its whole group: say why it did not here.
        output.append(exercise["message"] or f"Passed, but another test of the group {test['group']!r}"
                                             " did not pass, so the group earns no points.")
    return {
        "name": f"{test['exercise']} · {test['group']} · {test['name']}",
        "score": test["score"],
        "max_score": test["max_score"],
        "status": "passed" if test["status"] == "pass" else "failed",
        "output": "\n".join(output),
        "visibility": "visible",
    }


def build_bundle(zip_path: Path, exercises: Sequence[Exercise]) -> None:
    """Write Gradescope's autograder zip for `exercises`: what grading them needs, and no more.

    The kit's packages (grader and student_runtime) and configuration, the reference solutions and hidden suites of these
    exercises (no mutants), setup.sh and run_autograder, which grades only these exercises.
    """
    roots = {exercise.root for exercise in exercises}
    if len(roots) != 1:
        raise ValueError("build_bundle needs at least one exercise, all from one kit")
    [root] = roots
    files = [root / name for name in ("pyproject.toml", "README.md", "exercises.toml")]
    files += _tree(root / "grader") + _tree(root / "student_runtime")
    for exercise in exercises:
        files += _tree(exercise.reference_dir)
        files += [path for path in _tree(exercise.hidden_suite_dir) if exercise.mutants_dir not in path.parents]
    chosen = "".join(f" --exercise {exercise.id}" for exercise in exercises)
    scripts = {
        "setup.sh": _SETUP_SH,
        "run_autograder": _RUN_AUTOGRADER.format(variable=PYTHON_VARIABLE, exercises=chosen),
    }
    Path(zip_path).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(set(files)):
            _add(bundle, path.relative_to(root).as_posix(), path.read_bytes(), 0o644)
        for name, text in scripts.items():
            _add(bundle, name, text.encode("utf-8"), 0o755)


def _tree(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | mode) << 16
    bundle.writestr(info, data)
