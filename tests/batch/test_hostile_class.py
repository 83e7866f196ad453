"""The batch grader against a hostile class, end to end (issue 8, "Fair and safe").

One synthetic class is graded once, as an instructor grades one (`python -m grader grade CLASS
--out OUT --exercise 01_race_condition`, with the default --jobs): the reference solution, the
hostile students of hostile/ (a student repository each, whose docstring or README says what it
tries and what it must earn) and four red-team submissions of tests/security/attacks/, used
where they are. Each student must get exactly what its honest code earns; the reference its
full points, whatever its classmates do at the same time; and the grader must exit 0 with a
row and a results.json for everyone, leaving no process behind and no file changed outside OUT.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.harness.sandbox import _STARTUP_TIMEOUT
from grader.manifest import KIT_ROOT, get_exercise

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the hostile class attacks the Linux sandbox (Landlock, subreaper, /proc)")

RACE = get_exercise("01_race_condition")
REFERENCE, STUB = RACE.module_file(), RACE.stub_dir / f"{RACE.module}.py"
HOSTILE = Path(__file__).with_name("hostile")
ATTACKS = KIT_ROOT / "tests" / "security" / "attacks"
# Far above the slowest student (a hang costs the sandbox's startup deadline per test): a grader
# that hangs on a student fails this test instead of freezing the run.
GRADER_TIMEOUT = 1200

# The points each student must get: what its honest code earns (see its docstring or README).
EXPECTED = {
    "reference": 10,
    "always_true_eq": 0,
    "busy_loop_at_import": 0,
    "conftest_rewrites_reports": 0,
    "edited_visible_tests": 0,
    "exit_at_import": 0,
    "fake_summary_then_sys_exit": 0,
    "git_head_reads_a_classmate": 0,
    "memory_hog": 0,
    "patched_time_functions": 5,
    "pytest_ini_collect_only": 10,
    "replays_cached_answers": 0,
    "sitecustomize_patches_pytest": 0,
    "stray_processes": 0,
    "symlink_to_reference": 0,
    "symlinked_exercises_folder": 0,
    "waits_forever_at_import": 0,
    "zip_slip": 0,
    # Red team, graded here on the whole suite (their docstrings give the points of one test).
    # Their honest code is the lecture's counter without a lock, with a count_in_threads() that
    # starts every thread before joining any: correctness 2 + concurrency 3, races 0.
    "red_team_kill_the_grader": 5,
    "red_team_daemon_rewrites_the_report": 5,
    "red_team_read_other_submissions": 5,
    # Its `value` prints a fake points line and ends the process: no count is ever read.
    "red_team_fake_points_line": 0,
}
RED_TEAM = {
    "red_team_kill_the_grader": "escape_kill_the_grader.py",
    "red_team_daemon_rewrites_the_report": "escape_daemon_rewrites_the_report.py",
    "red_team_read_other_submissions": "escape_read_other_submissions.py",
    "red_team_fake_points_line": "escape_fake_points_line_in_the_output.py",
}
# Hostile students whose attack lies beside the module hand in the kit's stub or reference.
HANDED_IN = {
    "reference": REFERENCE,
    "conftest_rewrites_reports": STUB,
    "edited_visible_tests": STUB,
    "git_head_reads_a_classmate": STUB,
    "pytest_ini_collect_only": REFERENCE,
    "sitecustomize_patches_pytest": STUB,
}
# Symbolic links made when the class is laid out: their targets are paths of this machine.
LINKS = {
    "symlink_to_reference": (Path("exercises", RACE.id, f"{RACE.module}.py"), REFERENCE),
    "symlinked_exercises_folder": (Path("exercises"), REFERENCE.parent.parent),
}
# Their names sort far apart, so that the two jobs do not both wait on a hang at once, and the
# reference is graded beside the one that burns a core.
HANGS = ("busy_loop_at_import", "waits_forever_at_import")
STRAY_MARKER = "kit-hostile-stray-sleeper"  # on the command line of stray_processes' sleepers
ZIP_LITTER = "kit-hostile-zip-slip.txt"
POINTS_LINE = re.compile(r"(?:^|\] )([\w.-]+): (\d+)/(\d+)", re.M)


def zip_members() -> dict[str, bytes]:
    """zip_slip.zip: its module two folders above wherever it is unpacked, and files that climb
    out of it, to an absolute path and deep to the machine's temporary folder."""
    temporary = Path(tempfile.gettempdir()).resolve()
    litter = b"written by a grader that extracted a student's archive\n"
    return {
        f"../../exercises/{RACE.id}/{RACE.module}.py": (HOSTILE / "zip_slip" / f"{RACE.module}.py").read_bytes(),
        f"../../../{ZIP_LITTER}": litter,
        str(temporary / f"abs-{ZIP_LITTER}"): litter,
        "../" * 16 + str(temporary / f"deep-{ZIP_LITTER}").lstrip("/"): litter,
    }


def lay_out_class(root: Path) -> None:
    """One folder (or .zip file) per student of EXPECTED."""
    for folder in sorted(HOSTILE.iterdir()):
        if folder.is_dir() and folder.name != "zip_slip" and folder.name != "__pycache__":
            shutil.copytree(folder, root / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
            if (root / folder.name / "dot_git").is_dir():
                (root / folder.name / "dot_git").rename(root / folder.name / ".git")
    for student, source in [*HANDED_IN.items(), *((name, ATTACKS / file) for name, file in RED_TEAM.items())]:
        target = RACE.module_file(root / student)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for student, (link, target) in LINKS.items():
        (root / student / link).parent.mkdir(parents=True, exist_ok=True)
        (root / student / link).symlink_to(target, target_is_directory=target.is_dir())
    with zipfile.ZipFile(root / "zip_slip.zip", "w") as archive:
        for name, content in zip_members().items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), content)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and link under root, following no link: what a student could have changed."""
    found = {}
    for folder, subfolders, files in os.walk(root):
        for name in subfolders + files:
            path = Path(folder, name)
            if path.is_symlink():
                found[str(path.relative_to(root))] = f"link to {os.readlink(path)}"
            elif path.is_file():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def kit_files() -> dict[str, str] | None:
    """The kit's files that git sees (tracked, or new and not ignored), by content; None outside
    a git checkout."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=KIT_ROOT, capture_output=True, check=False)
    if listing.returncode != 0:
        return None
    paths = sorted({name for name in listing.stdout.decode().split("\0") if name})
    return {name: hashlib.sha256((KIT_ROOT / name).read_bytes()).hexdigest() if (KIT_ROOT / name).is_file()
            else "absent" for name in paths}


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def processes_with(marker: str) -> list[str]:
    """The command lines (pid first) of the processes whose command line holds marker."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:  # it ended meanwhile
            continue
        if marker.encode() in command:
            words = command.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {words[:200]}")
    return found


def strings_of(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from strings_of(value)
    elif isinstance(document, list):
        for value in document:
            yield from strings_of(value)


@dataclass(frozen=True)
class GradedClass:
    root: Path
    out: Path
    exit_code: int
    output: str
    class_changed: list[str]
    kit_changed: list[str] | None
    processes_left: list[str]

    def grades(self) -> dict[str, int]:
        with open(self.out / "grades.csv", newline="", encoding="utf-8") as file:
            return {row["student"]: int(row["total"]) for row in csv.DictReader(file)}

    def results(self, student: str) -> dict[str, Any]:
        return json.loads((self.out / student / "results.json").read_text(encoding="utf-8"))

    def feedback(self, student: str) -> str:
        return (self.out / student / "feedback.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradedClass:
    root, out = tmp_path_factory.mktemp("hostile-class"), tmp_path_factory.mktemp("hostile-out")
    lay_out_class(root)
    class_before, kit_before = tree_digest(root), kit_files()
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(root), "--out", str(out), "--exercise", RACE.id],
                         cwd=KIT_ROOT, capture_output=True, text=True, timeout=GRADER_TIMEOUT)
    processes_left = processes_with(STRAY_MARKER)  # at once: the grader returns once they are gone
    kit_after = kit_files()
    return GradedClass(
        root=root, out=out, exit_code=run.returncode, output=run.stdout + run.stderr,
        class_changed=changed(class_before, tree_digest(root)),
        kit_changed=None if kit_before is None or kit_after is None else changed(kit_before, kit_after),
        processes_left=processes_left,
    )


def test_the_class_covers_every_hostile_student():
    """A hostile folder without an expected grade would be graded and never judged."""
    folders = {path.name for path in HOSTILE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders | set(HANDED_IN) | set(RED_TEAM) == set(EXPECTED)


def test_the_grader_exits_0_and_fails_on_no_student(graded_class: GradedClass):
    assert graded_class.exit_code == 0, graded_class.output[-3000:]
    assert "failures of the grader itself: 0" in graded_class.output, graded_class.output[-3000:]


def test_every_student_has_a_row_a_results_json_and_feedback(graded_class: GradedClass):
    grades = graded_class.grades()
    assert sorted(grades) == sorted(EXPECTED)
    assert sorted(path.name for path in graded_class.out.iterdir()) == sorted([*EXPECTED, "grades.csv"])
    for student, total in grades.items():
        results = graded_class.results(student)
        assert (results["student"], results["points"], results["max_points"]) == (student, total, RACE.max_points)
        assert results["tests"], f"{student}: results.json lists no hidden test"
        assert graded_class.feedback(student).startswith(f"# Feedback for {student}\n")


def test_every_student_gets_exactly_what_its_honest_code_earns(graded_class: GradedClass):
    grades = graded_class.grades()
    wrong = {student: f"got {grades.get(student)}, expected {points}"
             for student, points in EXPECTED.items() if grades.get(student) != points}
    assert not wrong, "\n".join(f"{student}: {verdict}\n{graded_class.feedback(student)[:1500]}"
                                for student, verdict in wrong.items())


def test_the_reference_is_unaffected_by_its_classmates(graded_class: GradedClass):
    results = graded_class.results("reference")
    failed = [f"{test['name']}: {test['status']} {test['message'][:300]}" for test in results["tests"]
              if test["status"] != "pass"]
    assert not failed and results["points"] == RACE.max_points, "\n".join(failed)
    assert results["exercises"][0]["integrity"]["status"] == "clean", results["exercises"][0]["integrity"]


def test_linked_files_and_folders_are_refused_with_the_reason(graded_class: GradedClass):
    for student in LINKS:
        assert graded_class.grades()[student] == 0
        assert "symbolic link" in graded_class.feedback(student), graded_class.feedback(student)


def test_no_fake_points_line_reaches_the_graders_output(graded_class: GradedClass):
    grades = graded_class.grades()
    fake = [match.group(0) for match in POINTS_LINE.finditer(graded_class.output)
            if grades.get(match.group(1)) != int(match.group(2)) or int(match.group(3)) != RACE.max_points]
    assert not fake, f"points lines that grades.csv does not back: {fake}"
    assert " passed in " not in graded_class.output, graded_class.output[-3000:]


def test_no_process_is_left_behind(graded_class: GradedClass):
    # The attack ran: its failure says how many processes it had started.
    assert "50 stray processes started" in graded_class.feedback("stray_processes")
    assert not graded_class.processes_left, graded_class.processes_left


def test_nothing_is_written_outside_out(graded_class: GradedClass):
    assert not graded_class.class_changed, f"files of the class changed: {graded_class.class_changed}"
    if graded_class.kit_changed is None:
        pytest.skip("the kit is not a git checkout: its files cannot be listed to compare")
    assert not graded_class.kit_changed, f"files of the kit changed: {graded_class.kit_changed}"


def test_an_archive_is_never_unpacked_outside(graded_class: GradedClass):
    bases = (graded_class.root, graded_class.out, graded_class.out / "zip_slip", KIT_ROOT)
    written = sorted({os.path.normpath(base / name) for name in zip_members() if name.endswith(ZIP_LITTER)
                      for base in bases if os.path.lexists(os.path.normpath(base / name))})
    assert not written, f"the grader unpacked zip_slip.zip's members outside: {written}"


def test_a_repository_cannot_make_the_grader_read_outside_it(graded_class: GradedClass):
    """.git/HEAD names a classmate's counter.py as its branch: no commit, and none of that file."""
    results = graded_class.results("git_head_reads_a_classmate")
    classmate = REFERENCE.read_text(encoding="utf-8").splitlines()[0]
    assert results["commit"] is None, f"the commit read through .git/HEAD is {results['commit'][:80]!r}"
    assert ", commit " not in graded_class.feedback("git_head_reads_a_classmate")
    assert not any(classmate in text for text in strings_of(results))


def test_a_hang_at_import_is_not_waited_for_in_every_test(graded_class: GradedClass):
    """A module whose import never ends fails every test of its exercise the same way: waiting the
    import deadline again in each of them only holds up the class (01 has 5 tests, 02 has 15).

    The bound is the time of that wait in every test, which a grader that does so always exceeds;
    it leaves room for waits on the machine-wide timing lock, which other graders may hold."""
    slow = {}
    for student in HANGS:
        results = graded_class.results(student)
        if results["duration"] >= len(results["tests"]) * _STARTUP_TIMEOUT:
            slow[student] = f"{results['duration']:.0f} s for {len(results['tests'])} tests"
    assert not slow, f"a module that hangs at import was waited for in every test: {slow}" \
                     f" (the import deadline is {_STARTUP_TIMEOUT:.0f} s)"
