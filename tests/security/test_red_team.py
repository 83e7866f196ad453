"""Red team: adversarial submissions graded the real way, one per attack family.

Each file in attacks/ is a submission a determined student could write; its docstring names
the exercise, the attack family, the points its honest code earns (the same file without
the attack) and, optionally:

    Select: a pytest -k expression, where the attack targets some tests only
    Flagged: yes, when its source uses what no solution of these exercises needs (tracing or
        frame functions, sys.modules, /proc, os.kill, setsid, exec, ...): the report must then
        show an integrity status other than "clean"
    Checks: after-exit (also run the instructor's command and watch its report and stdout
        after pytest exits), stub-after (grade the untouched stub in the same kit afterwards)

Every attack is graded in a private copy of the kit, so that one that works damages neither
the checkout nor the rest of this test run, and must: (a) earn no more than its honest code;
(b) leave the grading run alive with its report written; (c) change nothing outside the
sandbox: the kit's files, another student's submission, no process left alive, no
connection to a port on 127.0.0.1 that the exercise does not use, no report rewritten and no
points line printed after pytest exits, nothing the submission read leaking back into the
report. An attack that notices its own success says "BREACH:" in what it raises. Where
nothing got through but a timing check of the run was not measured (a busy machine), the
test skips as inconclusive; and a control grades the reference the same way, so that a
sandbox that fails every submission cannot make the attacks look held.
"""

from __future__ import annotations

import ast
import compileall
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.manifest import KIT_ROOT, Exercise, get_exercise

ATTACKS_DIR = Path(__file__).with_name("attacks")
DRIVER = Path(__file__).with_name("grade_in_copy.py")
DRIVER_TIMEOUT = 400  # seconds; the slowest attack (06's speedup group) needs about 60
# The attack families of issue 7, as the file names begin.
FAMILIES = ("switch", "probes", "copy", "escape", "timing")
# What the kit copy holds besides the hidden suite of the attacked exercise.
KIT_PARTS = ("grader", "student_runtime", "solutions", "exercises", "exercises.toml", "pyproject.toml", "README.md")
CHECKS = frozenset({"after-exit", "stub-after"})
LISTENER_PORT_LINE = "LISTENER_PORT = 0"
KIT_COPY_MARKER = ".red-team-kit-copy"
# Where a submission could leave files that outlive its sandbox; attacks name theirs with the prefix.
SHARED_FOLDERS = ("/dev/shm", "/tmp", "/var/tmp")
LITTER_PREFIX = "red-team-left-behind-"
POINTS_LINE = re.compile(r"^(\d\d_\w+): (\d+)/(\d+)\b", re.M)


@dataclass(frozen=True)
class Attack:
    path: Path
    exercise: str
    family: str
    honest_points: int
    select: str | None
    flagged: bool
    checks: frozenset[str]

    @property
    def name(self) -> str:
        return self.path.stem

    @classmethod
    def read(cls, path: Path) -> Attack:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        fields = dict(re.findall(r"^([A-Z][a-z]+(?: [a-z]+)?): (.+)$", docstring, re.M))
        missing = {"Exercise", "Family", "Honest points"} - set(fields)
        assert not missing, f"{path.name}: its docstring needs the fields {sorted(missing)}"
        checks = frozenset(word.strip() for word in fields.get("Checks", "").split(",") if word.strip())
        assert checks <= CHECKS, f"{path.name}: unknown checks {sorted(checks - CHECKS)}; known: {sorted(CHECKS)}"
        return cls(
            path=path,
            exercise=fields["Exercise"].strip(),
            family=fields["Family"].strip(),
            honest_points=int(fields["Honest points"].split()[0]),
            select=fields.get("Select", "").strip() or None,
            flagged=fields.get("Flagged", "no").strip().startswith("yes"),
            checks=checks,
        )


ATTACKS = [Attack.read(path) for path in sorted(ATTACKS_DIR.glob("*.py"))]


def test_every_family_of_the_issue_has_an_attack():
    covered = {attack.name.split("_")[0] for attack in ATTACKS}
    assert covered == set(FAMILIES), f"families without an attack: {set(FAMILIES) - covered}"


# -- the world around the grading run -----------------------------------------------------------


def copy_kit(exercise_id: str, target: Path) -> Path:
    for part in KIT_PARTS:
        source = KIT_ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    shutil.copytree(KIT_ROOT / "tests" / exercise_id, target / "tests" / exercise_id,
                    ignore=shutil.ignore_patterns("__pycache__"))
    # The attacks that write into the kit write only where they find this file: never into a checkout.
    (target / KIT_COPY_MARKER).write_text("a copy of the kit made by tests/security; attacks may write here\n")
    # Compiled now, so that trusted code never needs to write there: every byte that changes
    # afterwards, a planted .pyc included, was written by someone else.
    assert compileall.compile_dir(target, quiet=2), "the kit copy does not compile"
    return target


def tree_digest(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


class Listener:
    """A TCP port on 127.0.0.1 that no exercise uses; counts the connections it accepts."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self._socket.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self._socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def left_behind() -> list[str]:
    """Files the attacks leave in the machine's shared folders (their names say so), removed."""
    litter = [str(path) for folder in SHARED_FOLDERS for path in Path(folder).glob(f"{LITTER_PREFIX}*")]
    for path in litter:
        Path(path).unlink(missing_ok=True)
    return litter


def place(source: str, root: Path, exercise_id: str, module: str) -> Path:
    """Lay out a one-file submission: root/exercises/<id>/<module>.py."""
    target = root / "exercises" / exercise_id / f"{module}.py"
    target.parent.mkdir(parents=True)
    target.write_text(source, encoding="utf-8")
    return root


# -- verdicts -------------------------------------------------------------------------------------


def points_of(report: dict[str, Any] | None) -> int | None:
    return None if report is None else report["points"]


def integrity_statuses(report: dict[str, Any]) -> list[str]:
    return [exercise.get("integrity", {}).get("status", "(no integrity in the report)")
            for exercise in report["exercises"]]


def skipped_tests(report: dict[str, Any]) -> list[str]:
    return [f"{test['name']} was not measured: {test['message'][:300]}"
            for exercise in report["exercises"] for group in exercise["groups"] for test in group["tests"]
            if test["status"] == "skip"]


def fake_points_lines(output: str, report: dict[str, Any]) -> list[str]:
    """Points lines on the grader's output that the report does not back."""
    true = {(e["id"], e["points"], e["max_points"]) for e in report["exercises"]}
    return [match.group(0) for match in POINTS_LINE.finditer(output)
            if (match.group(1), int(match.group(2)), int(match.group(3))) not in true]


def breaches(attack: Attack, result: dict[str, Any], secret: str) -> list[str]:
    """Every way the attack got through, in words; empty when the sandbox held."""
    found = []
    run = result["run"]
    report = run["report"]
    if report is None:
        found.append(f"the grading run wrote no report: {run['error'][-600:]}")
    else:
        if run["exit_code"] not in (0, 1):
            found.append(f"pytest ended with exit code {run['exit_code']}")
        if not any(group["tests"] for exercise in report["exercises"] for group in exercise["groups"]):
            found.append("the report holds no test outcome")
        if report["points"] > attack.honest_points:
            found.append(f"earned {report['points']} points; its honest code earns {attack.honest_points}")
        if attack.flagged and not set(integrity_statuses(report)) & {"suspicious", "tampered"}:
            found.append(f"not flagged: integrity {integrity_statuses(report)}")
        if fake := fake_points_lines(run["output"], report):
            found.append(f"points lines the report does not back: {fake}")
    visible = json.dumps(report) + run["output"]
    for leak in sorted(set(re.findall(r"BREACH: [^\"\\\n]{0,160}", visible))):
        found.append(f"the submission says {leak!r}")
    if secret in visible:
        found.append("another student's submission or the grader's token leaked into the report")
    if result["left_alive"]:
        found.append(f"processes left alive after grading: {list(result['left_alive'].values())[:3]}")
    instructor = result.get("instructor")
    if instructor is not None:
        if instructor["report_rewritten"]:
            found.append("the --report-json file was rewritten after pytest exited")
        if instructor["printed_after_exit"].strip():
            found.append(f"printed after pytest exited: {instructor['printed_after_exit'].strip()[:200]!r}")
        if points_of(instructor["report"]) is None or instructor["report"]["points"] > attack.honest_points:
            found.append(f"instructor's command: points {points_of(instructor['report'])}")
    stub = result.get("stub")
    if stub is not None and points_of(stub["report"]) != 0:
        found.append(f"an untouched stub graded afterwards earned {points_of(stub['report'])} points")
    return found


# -- the tests -----------------------------------------------------------------------------------


def grade_in_copy(tmp_path: Path, exercise: Exercise, source: str, select: str | None, secret: str,
                  checks: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Grade `source` as the exercise's module with the driver, in the kit copy at tmp_path/kit."""
    submission = place(source, tmp_path / "student", exercise.id, exercise.module)
    stub = None
    if "stub-after" in checks:
        stub = place(exercise.module_file(KIT_ROOT).read_text(), tmp_path / "stub", exercise.id, exercise.module)
    config = {"exercise": exercise.id, "submission": str(submission), "select": select,
              "watch_after_exit": "after-exit" in checks, "stub": stub and str(stub),
              "result": str(tmp_path / "result.json")}
    (tmp_path / "config.json").write_text(json.dumps(config))
    # Only what grading needs, plus a token like the ones CI jobs keep in their environment,
    # which no submission may read (and no real secret of this machine for an attack to show).
    environment = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    environment.update(PYTHONPATH=str(tmp_path / "kit"), PYTHONDONTWRITEBYTECODE="1", DEPLOY_TOKEN=secret)
    with open(tmp_path / "driver.log", "wb") as log:
        driver = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "config.json")], cwd=tmp_path / "kit",
                                env=environment, stdout=log, stderr=subprocess.STDOUT, timeout=DRIVER_TIMEOUT)
    assert driver.returncode == 0, (tmp_path / "driver.log").read_text()[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["kit_root"] == str(tmp_path / "kit"), "the driver graded with another kit than the copy"
    assert result["subreaper"], "could not watch for detached processes (no PR_SET_CHILD_SUBREAPER)"
    return result


# The sandbox under attack confines with Linux facilities (Landlock, subreaper, cgroups); elsewhere
# grading falls back to fewer protections, which the report names, and there is nothing to attack.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the red team attacks the Linux sandbox")

GRADINGS = sorted({(attack.exercise, attack.select) for attack in ATTACKS}, key=str)


@linux_only
@pytest.mark.timeout(DRIVER_TIMEOUT + 60)
@pytest.mark.parametrize(("exercise_id", "select"), GRADINGS,
                         ids=[f"{e}-{'all' if s is None else s.split(' or ')[0]}" for e, s in GRADINGS])
def test_the_same_grading_passes_the_reference(exercise_id: str, select: str | None, tmp_path: Path):
    """The attacks' verdicts mean something only if this grading, in this copy, passes a
    correct solution: a sandbox that failed every submission would make every attack 'held'."""
    exercise = get_exercise(exercise_id)
    copy_kit(exercise.id, tmp_path / "kit")
    result = grade_in_copy(tmp_path, exercise, exercise.module_file().read_text(), select, "no secret")
    report = result["run"]["report"]
    assert report is not None, result["run"]["error"]
    outcomes = [test for e in report["exercises"] for group in e["groups"] for test in group["tests"]]
    wrong = [f"{test['name']}: {test['status']} {test['message'][:300]}" for test in outcomes
             if test["status"] not in ("pass", "skip")]
    assert outcomes and not wrong, "the reference does not pass this grading:\n" + "\n".join(wrong)
    assert not result["left_alive"], f"the reference left processes alive: {result['left_alive']}"


@linux_only
@pytest.mark.timeout(DRIVER_TIMEOUT + 60)
@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_gains_nothing_and_changes_nothing_outside(attack: Attack, tmp_path: Path, listener: Listener):
    exercise = get_exercise(attack.exercise)
    kit = copy_kit(exercise.id, tmp_path / "kit")
    secret = f"student-two-{secrets.token_hex(8)}"
    decoy = place(f"# {secret}\n" + exercise.module_file().read_text(), tmp_path / "other-student",
                  exercise.id, exercise.module)
    source = attack.path.read_text(encoding="utf-8").replace(LISTENER_PORT_LINE, f"LISTENER_PORT = {listener.port}")
    kit_before, decoy_before = tree_digest(kit), tree_digest(decoy)

    result = grade_in_copy(tmp_path, exercise, source, attack.select, secret, attack.checks)

    found = breaches(attack, result, secret)
    if changed := changed_files(kit_before, tree_digest(kit)):
        found.append(f"files of the kit changed: {changed[:5]}")
    if changed := changed_files(decoy_before, tree_digest(decoy)):
        found.append(f"another student's submission changed: {changed}")
    if litter := left_behind():
        found.append(f"files left in the machine's shared folders: {litter[:3]}")
    if listener.connections:
        found.append(f"{listener.connections} connection(s) to 127.0.0.1:{listener.port},"
                     " a port the exercise does not use")
    assert not found, f"{attack.name} ({attack.family}) got through:\n- " + "\n- ".join(found)
    if unmeasured := skipped_tests(result["run"]["report"]):
        # Nothing got through, but a timing check that did not measure proves nothing either.
        pytest.skip(f"inconclusive: {unmeasured[0]}")
