"""Run hidden suites in a fresh pytest process and read back the points they earned.

The grader, the benchmark and the kit's self-check all grade this way: a separate pytest
process per run, so nothing one submission does can leak into the next, and the verdict is
read from the JSON report the plugin writes, never from pytest's console output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.manifest import KIT_ROOT, Exercise
from student_runtime.processes import NEW_SESSION, stop_session


@dataclass(frozen=True)
class SuiteRun:
    report: dict[str, Any]
    exit_code: int
    output: str

    def failed_tests(self) -> list[str]:
        return [
            test["name"]
            for exercise in self.report["exercises"]
            for group in exercise["groups"]
            for test in group["tests"]
            if test["status"] != "pass"
        ]


def run_hidden_suites(
    exercises: Sequence[Exercise],
    submission: Path | None = None,
    *,
    select: str | None = None,
    node_ids: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    timeout: float | None = None,
) -> SuiteRun:
    """Run the hidden suites of `exercises` against a submission (None: the reference).

    `node_ids` (relative to the kit root, e.g. "tests/01_race_condition/test_x.py::test_y")
    runs exactly those tests instead of whole suites; `select` narrows the run to tests whose
    names match a pytest -k expression. A run longer than `timeout` seconds is killed with
    everything it started, and raises RuntimeError like a run that wrote no report.
    """
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--rootdir", str(KIT_ROOT), "-c", str(KIT_ROOT / "pyproject.toml"),
            "--report-json", str(report_path),
            *(node_ids or [str(exercise.hidden_suite_dir) for exercise in exercises]),
        ]
        if submission is not None:
            command += ["--submission", str(submission)]
        if select:
            command += ["-k", select]
        command += list(extra_args)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=KIT_ROOT, start_new_session=NEW_SESSION)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_session(process)
            raise RuntimeError(f"the grading run took longer than {timeout:.0f} s and was stopped") from None
        if not report_path.exists():
            raise RuntimeError(f"pytest wrote no report (exit code {process.returncode}):\n{output[-6000:]}")
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return SuiteRun(report, process.returncode, output)


def submission_with(exercise: Exercise, module_source: Path, root: Path) -> Path:
    """Lay out a one-file submission (root/exercises/<id>/<module>.py) and return root."""
    target = exercise.module_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(module_source.read_bytes())
    return root
