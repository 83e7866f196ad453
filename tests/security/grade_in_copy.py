"""Grade one red-team submission in a private copy of the kit and report what happened.

Run by test_red_team.py as `python grade_in_copy.py CONFIG.json`, with the copy first on
PYTHONPATH so that `grader` (the runner, the plugin, the sandbox) is the copy's. It grades
through `grader.runner.run_hidden_suites`, the path the kit's own checks use, and becomes the
subreaper of everything it starts, so that a process the submission detached from the
grading run (setsid, double fork) becomes its child instead of init's: whatever is still
alive below it once grading has finished was left behind by the submission.

The config (JSON): exercise, submission, select (or null), watch_after_exit (also run the
README's instructor command with --report-json and watch the report and stdout after pytest
has exited), stub (a stub submission to grade afterwards, or null), result (where to write
the findings as JSON).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from grader.manifest import KIT_ROOT, get_exercise
from grader.runner import run_hidden_suites

PR_SET_CHILD_SUBREAPER = 36
# Seconds to watch a finished run's report and stdout for late writes; a detached process that
# waits for pytest to exit acts within a few polls of its exit.
AFTER_EXIT_WATCH = 3.0
# Seconds to let processes that a killed sandbox leaves behind die before counting them.
SETTLE = 0.5


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def descendants() -> dict[int, str]:
    """Live processes below this one: pid -> command line."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found, frontier = {}, {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in found}
        for pid in frontier:
            try:
                found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                found[pid] = "?"
    return found


def leftovers() -> dict[int, str]:
    """Live descendants after a short settling time, then killed (after being recorded)."""
    time.sleep(SETTLE)
    reap_zombies()
    alive = descendants()
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
    reap_zombies()
    return alive


def instructor_run(exercise_id: str, submission: Path, select: str | None, folder: Path) -> dict[str, Any]:
    """The README's instructor command, stdout to a file; then watch report and stdout."""
    report, stdout = folder / "grade.json", folder / "stdout.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--rootdir", str(KIT_ROOT), "-c", str(KIT_ROOT / "pyproject.toml"),
               str(KIT_ROOT / "tests" / exercise_id), "--submission", str(submission),
               "--report-json", str(report)]
    if select:
        command += ["-k", select]
    with open(stdout, "wb") as out:
        exit_code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=KIT_ROOT).returncode
    at_exit = (report.read_bytes() if report.exists() else None, stdout.read_bytes())
    time.sleep(AFTER_EXIT_WATCH)
    later = (report.read_bytes() if report.exists() else None, stdout.read_bytes())
    return {
        "exit_code": exit_code,
        "report": json.loads(at_exit[0]) if at_exit[0] else None,
        "report_rewritten": at_exit[0] != later[0],
        "printed_after_exit": later[1][len(at_exit[1]):].decode(errors="replace") if later[1] != at_exit[1] else "",
        "output": at_exit[1].decode(errors="replace")[-6000:],
    }


def graded(exercise_id: str, submission: Path, select: str | None) -> dict[str, Any]:
    try:
        run = run_hidden_suites([get_exercise(exercise_id)], submission, select=select)
    except RuntimeError as error:  # no report written
        return {"error": str(error)[-4000:], "report": None, "exit_code": None, "output": ""}
    return {"error": None, "report": run.report, "exit_code": run.exit_code, "output": run.output[-20000:]}


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    exercise_id, submission, select = config["exercise"], Path(config["submission"]), config["select"]
    result: dict[str, Any] = {"subreaper": become_subreaper(), "kit_root": str(KIT_ROOT)}
    result["run"] = graded(exercise_id, submission, select)
    result["left_alive"] = leftovers()
    if config["watch_after_exit"]:
        result["instructor"] = instructor_run(exercise_id, submission, select, Path(config["result"]).parent)
        result["left_alive"].update(leftovers())
    if config["stub"]:
        result["stub"] = graded(exercise_id, Path(config["stub"]), select)
        result["left_alive"].update(leftovers())
    Path(config["result"]).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
