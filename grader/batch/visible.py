"""Grade a class on the visible tests, as the autograder grades each push (`grade --visible`).

This shows what the students saw on GitHub, not their grade. Each student's module files go
into a private copy of a pristine release (the kit's own visible tests and exercises.json),
and `python -m student_runtime autograde <id>` runs there for each exercise, as the workflow's
step does. That command runs the student's code inside its pytest process, which is why its
scores are the students' own view and never a grade: the code could forge them. So that it
cannot harm the machine, it starts through this module (`python -m grader.batch.visible
--write FOLDER -- COMMAND`), which sets hard resource limits and, where the kernel has
Landlock, lets the command read only the Python installation and the student runtime and write
only its copy of the repository; TCP stays open, since the visible tests run their loopback
server in the same process. Its Classroom results become the hidden suites' report, one group
per visible test worth one point, so grades.csv, results.json and feedback.md come out the
same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.batch.stage import Staged
from grader.harness import confine
from grader.harness.sandbox import Limits
from grader.manifest import Exercise
from grader.release import release
from grader.release.template import RUNTIME
from grader.scoring import REPORT_VERSION
from student_runtime.cli.autograde import RESULTS_FOLDER
from student_runtime.exercises import Listing, read_listing
from student_runtime.processes import NEW_SESSION, stop_session

# The command's own limit per exercise; the grader stops the confined process a little later.
SECONDS_PER_EXERCISE = 300
# The kit's plugin must stay out of the students' runs: it would grade the reference.
STUDENT_PYTEST = "-p no:concurrency_kit -p student_runtime.plugin"
NOT_A_GRADE = ("the student's code shares the visible tests' process and could change these"
               " scores: they show what the student saw on GitHub, not a grade")


@dataclasses.dataclass(frozen=True)
class VisibleTests:
    """A pristine release to grade students in, and its listing of the visible tests."""

    template: Path
    listing: Listing

    @classmethod
    def release_into(cls, folder: Path, exercises: Sequence[Exercise]) -> VisibleTests:
        release(folder, exercises)
        return cls(folder, read_listing(folder))

    def expected_report(self) -> dict[str, Any]:
        """Every visible test, as a collection of the hidden suites would list them."""
        return {"version": REPORT_VERSION, "points": 0, "max_points": 0, "protections": {},
                "exercises": [_exercise_report(e.id, e.title, {t.split("::", 1)[1]: ("error", "") for t in e.tests})
                              for e in self.listing.exercises]}

    def grade(self, staged: Staged, exercises: Sequence[Exercise], scratch: Path) -> dict[str, Any]:
        """The report of one student's files on the visible tests of `exercises`."""
        repository = scratch / "repository"
        shutil.copytree(self.template, repository)
        staged.write(exercises, repository)
        (scratch / "tmp").mkdir()
        reports, protections = [], {}
        for exercise in exercises:
            protections = _run_confined(["--write", str(scratch), "--", sys.executable, "-m", "student_runtime",
                                         "autograde", exercise.id, "--timeout", str(SECONDS_PER_EXERCISE)],
                                        repository, scratch)
            result = json.loads((repository / RESULTS_FOLDER / f"{exercise.id}.json").read_text(encoding="utf-8"))
            tests = {test["name"]: (test["status"], test["message"]) for test in result["tests"]}
            reports.append(_exercise_report(exercise.id, exercise.title, tests))
        return {"version": REPORT_VERSION, "points": sum(r["points"] for r in reports),
                "max_points": sum(r["max_points"] for r in reports),
                "protections": {**protections, "visible tests": NOT_A_GRADE}, "exercises": reports}


def _exercise_report(exercise_id: str, title: str, tests: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """An exercise of the hidden suites' report, with one group of one point per visible test."""
    groups = [{"name": name, "points": int(status == "pass"), "max_points": 1,
               "status": "earned" if status == "pass" else "failed", "note": "",
               "tests": [{"name": name, "status": status, "message": message}]}
              for name, (status, message) in tests.items()]
    return {"id": exercise_id, "title": title, "points": sum(g["points"] for g in groups),
            "max_points": len(groups), "message": "", "integrity": {"status": "clean", "evidence": []},
            "groups": groups}


def _run_confined(arguments: list[str], cwd: Path, scratch: Path) -> dict[str, str]:
    """Run this module's launcher; return the protections it reports."""
    # No GitHub variables (the command would write to them) and no certificate files outside the
    # confinement (httpx would read them; the visible tests speak plain HTTP to their own server).
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GITHUB_") and key not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    environment.update(TMPDIR=str(scratch / "tmp"), PYTEST_ADDOPTS=STUDENT_PYTEST)
    process = subprocess.Popen([sys.executable, "-m", "grader.batch.visible", *arguments], cwd=cwd, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=NEW_SESSION)
    try:
        output, _ = process.communicate(timeout=SECONDS_PER_EXERCISE + 60)
    except subprocess.TimeoutExpired:
        stop_session(process)
        raise RuntimeError("the visible tests outlived their time limit") from None
    # The launcher's first line, written before the student's code could run.
    return json.loads(output.split("\n", 1)[0])


def main(argv: Sequence[str] | None = None) -> None:
    """Confine this process, then become the command."""
    parser = argparse.ArgumentParser(prog="python -m grader.batch.visible")
    parser.add_argument("--write", required=True, help="the one folder the command may write in")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if os.name == "posix":
        confine.set_hard_limits(dataclasses.asdict(Limits()), None)
    grants = dataclasses.replace(confine.child_grants([str(RUNTIME)], arguments.write, ()), ports=None)
    landlock = confine.apply_landlock(grants)
    protections = {"resource limits": confine.protections_in_force()["resource limits"],
                   "landlock": landlock + ("; TCP open to the visible tests' own server"
                                           if landlock.startswith(confine.IN_FORCE) else ""),
                   "socket filter": confine.apply_socket_filter()}
    print(json.dumps(protections), flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
