"""The pytest plugin shared by the visible exercise tests and the hidden grading suites.

The `pytest11` entry point loads this module in every pytest run of the environment, but it
only adds its options there. Its grading state, `KitPlugin`, is registered only where the
kit is in use: the run collects from an exercise folder of exercises.toml (exercises/<id>,
solutions/<id>, tests/<id>, or a folder holding them) or is given one of the kit's options.
Other pytest runs see no header, hook or fixture of the kit. `KitPlugin` adds:

* options: `--submission PATH` (grade a student repository instead of solutions/),
  `--seed N` (replay a test's inputs and schedules), `--seed-sweep N` (run every race check
  for seeds 1..N, for the benchmark), `--repeat N` and `--report-json FILE` (points per
  group and integrity per exercise, see scoring.py);
* the markers `group(name)` (the points group of a hidden test), `race` and `timing` (with
  `--timing-lock FILE`, a timing test runs while no other test of any grading run does);
* every hidden test that was collected but never reported a result counts as an error;
* fixtures: `exercise`, `sandbox`, `student`, `reference`, `usable_cores`, and those of the
  student runtime's plugin (student_runtime/plugin.py): `test_seed`, `rng`, `schedules`,
  `loopback`;
* short failure reports: a verdict on student code (a `SubmissionFailure`, or a stub's
  `NotImplementedError`) is shown as its message, not as a wall of traceback;
* a header naming what is graded and the protections in force, and a points summary with
  each exercise's integrity status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.harness.confine import protections_in_force
from grader.harness.integrity import CLEAN, Finding, scan_source
from grader.harness.sandbox import Sandbox, StudentCodeHung, SubmissionFailure
from grader.harness.timing import usable_cores as _usable_cores
from grader.manifest import Exercise, exercise_for_path, load_exercises
from grader.scoring import TestOutcome, build_report
from student_runtime.plugin import RuntimePlugin, add_options, short_report

_KIT_OPTIONS = ("submission", "seed", "seed_sweep", "report_json", "repeat", "timing_lock")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    group = parser.getgroup("concurrency kit")
    group.addoption("--submission", type=Path, default=None, metavar="PATH",
                    help="student repository to grade (PATH/exercises/<id>/<module>.py);"
                         " default: the reference solutions in solutions/")
    group.addoption("--seed-sweep", type=int, default=None, metavar="N",
                    help="run every race check once for each seed 1..N (benchmark)")
    group.addoption("--report-json", type=Path, default=None, metavar="FILE",
                    help="write the points earned per exercise and group to FILE")
    group.addoption("--repeat", type=int, default=None, metavar="N",
                    help="run every hidden test N times (benchmark of verdict stability)")
    group.addoption("--timing-lock", type=Path, default=None, metavar="FILE",
                    help="machine-wide lock shared by parallel grading runs: tests marked `timing`"
                         " run alone (the batch grader sets it)")


def pytest_configure(config: pytest.Config) -> None:
    if not kit_in_use(config):
        return
    submission = config.getoption("submission")
    if submission is not None and not submission.is_dir():
        raise pytest.UsageError(f"--submission {submission}: no such folder; give the student repository,"
                                " the folder that holds exercises/<id>/<module>.py")
    config.addinivalue_line("markers", "group(name): the points group of a hidden test in exercises.toml")
    config.addinivalue_line("markers", "race: a race check under forced interleavings")
    config.addinivalue_line("markers", "timing: its verdict compares a clock with a bar that a CPU shortage"
                                       " could cross; under --timing-lock it runs alone on the machine")
    config.pluginmanager.register(KitPlugin(config), "concurrency_kit_grading")


def kit_in_use(config: pytest.Config) -> bool:
    """Whether the run uses a kit option or collects from (or above) an exercise folder."""
    if any(config.getoption(option) is not None for option in _KIT_OPTIONS):
        return True
    ids = [exercise.id for exercise in load_exercises()]
    for argument in config.args:
        path = config.invocation_params.dir / argument.split("::")[0]
        if exercise_for_path(path) is not None:
            return True
        if path.is_dir() and any((path / i).is_dir() or any(path.glob(f"*/{i}")) for i in ids):
            return True
    return False


class KitPlugin(RuntimePlugin):
    """The grading state of one pytest run: outcomes of hidden tests and integrity findings.
    The fixtures of the visible tests (`test_seed`, `rng`, `schedules`, `loopback`) come from
    the student runtime's plugin."""

    def __init__(self, config: pytest.Config) -> None:
        super().__init__(config)
        self.submission: Path | None = config.getoption("submission")
        self.outcomes: dict[str, TestOutcome] = {}  # by node id
        self.expected: dict[str, TestOutcome] = {}  # by node id: what a hidden test that never reports gets
        self.sandbox_findings: dict[str, list[Finding]] = {}  # by exercise id
        self.hung_at_import: dict[str, StudentCodeHung] = {}  # by exercise id: the first such hang
        self._protections: dict[str, str] | None = None

    @property
    def protections(self) -> dict[str, str]:
        if self._protections is None:
            self._protections = dict(protections_in_force())
        return self._protections

    # -- collection -----------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        sweep = self.config.getoption("seed_sweep")
        if sweep and "schedules" in metafunc.fixturenames:
            metafunc.parametrize("test_seed", range(1, sweep + 1), indirect=True,
                                 ids=lambda seed: f"seed{seed}")
        repeat = self.config.getoption("repeat")
        if repeat and metafunc.definition.get_closest_marker("group"):
            metafunc.fixturenames.append("run_number")
            metafunc.parametrize("run_number", range(1, repeat + 1), ids=lambda n: f"run{n}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        graded: dict[str, Exercise] = {}
        for item in items:
            exercise = exercise_for_path(item.path)
            if exercise is None:
                continue
            hidden = item.get_closest_marker("group") is not None
            if hidden:
                graded[exercise.id] = exercise
            if "schedules" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.race)
            if not item.get_closest_marker("timeout"):
                # A backstop behind the sandbox's own deadline; for the visible tests, which run
                # the student's code in-process, the only guard against a deadlock.
                item.add_marker(pytest.mark.timeout(exercise.time_limit * (2 if hidden else 1)))
        if self.submission is not None:
            missing = [e.module_file(self.submission) for e in graded.values()
                       if not e.module_file(self.submission).is_file()]
            if missing:
                raise pytest.UsageError(
                    f"--submission {self.submission}: expected {', '.join(map(str, missing))};"
                    " give the student repository, laid out as exercises/<id>/<module>.py")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            marker, exercise = item.get_closest_marker("group"), exercise_for_path(item.path)
            if marker is not None and exercise is not None:
                self.expected[item.nodeid] = TestOutcome(
                    exercise.id, marker.args[0], item.name, "error",
                    "this test never reported a result (the run was cut short), so it counts as failed")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        lock_path = self.config.getoption("timing_lock")
        if lock_path is None:
            yield
            return
        from grader.harness.timing_lock import TimingLock  # POSIX only: imported where it is used

        with TimingLock(lock_path).hold(exclusive=item.get_closest_marker("timing") is not None):
            yield

    # -- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def exercise(self, request: pytest.FixtureRequest) -> Exercise:
        """The manifest entry of the exercise whose folder holds the test file."""
        found = exercise_for_path(request.path)
        if found is None:
            raise pytest.UsageError(f"{request.path} is not inside an exercise folder of exercises.toml")
        return found

    @pytest.fixture
    def sandbox(self, request: pytest.FixtureRequest, exercise: Exercise) -> Iterator[Callable[..., Sandbox]]:
        """Factory: sandbox(of="student" | "reference", start_method=None) -> a started Sandbox.

        Probes come from probes.py beside the test file. Every sandbox is a fresh process, so
        nothing a submission caches survives from one test to the next. A test that uses the
        `loopback` server lets the child connect to its ports, and to no other.
        """
        probes_file = request.path.parent / "probes.py"
        ports = request.getfixturevalue("loopback").ports if "loopback" in request.fixturenames else ()
        opened: list[tuple[str, Sandbox]] = []

        def open_sandbox(of: str = "student", start_method: str | None = None) -> Sandbox:
            hung = self.hung_at_import.get(exercise.id)
            if of == "student" and hung is not None:  # it would only hang again, for the whole deadline
                raise StudentCodeHung(f"{hung} (in an earlier test: not waited for again)")
            module_file = exercise.module_file(self.submission if of == "student" else None)
            box = Sandbox(module_file, probes_file, start_method=start_method, timeout=exercise.time_limit,
                          allowed_ports=ports)
            opened.append((of, box))
            try:
                box.start()
            except StudentCodeHung as error:  # start() waits only for the import
                if of == "student":
                    self.hung_at_import[exercise.id] = error
                raise
            return box

        yield open_sandbox
        for of, box in opened:
            box.close()
            if of == "student":
                self.sandbox_findings.setdefault(exercise.id, []).extend(box.findings)

    @pytest.fixture
    def student(self, sandbox: Callable[..., Sandbox]) -> Sandbox:
        """The submission's module in a fresh sandbox."""
        return sandbox("student")

    @pytest.fixture
    def reference(self, sandbox: Callable[..., Sandbox]) -> Sandbox:
        """The reference solution in a fresh sandbox, to calibrate timing checks against."""
        return sandbox("reference")

    @pytest.fixture
    def usable_cores(self) -> int:
        return _usable_cores()

    # -- reports --------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if call.excinfo is not None and report.failed:
            error = call.excinfo.value
            if isinstance(error, SubmissionFailure):
                report.longrepr = str(error)
            elif isinstance(error, AssertionError) and item.get_closest_marker("group") and error.args:
                # Hidden suites phrase every verdict for the student; pytest's source excerpt and
                # assertion rewriting would only bury it.
                report.longrepr = str(error.args[0]).split("\nassert ")[0]
            elif short_report(item, call.excinfo):
                report.longrepr = short_report(item, call.excinfo)
        self._record_outcome(item, report)

    def _record_outcome(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """One outcome per hidden test: its call's, or the first setup or teardown failure."""
        marker = item.get_closest_marker("group")
        exercise = exercise_for_path(item.path)
        if marker is None or exercise is None or (report.when != "call" and report.passed):
            return
        earlier = self.outcomes.get(item.nodeid)
        if earlier is not None and earlier.status != "pass":
            return
        if report.passed:
            status, message = "pass", ""
        elif report.skipped:
            status, message = "skip", _skip_reason(report)
        else:
            status, message = ("fail" if report.when == "call" else "error"), _short_message(report)
        self.outcomes[item.nodeid] = TestOutcome(exercise.id, marker.args[0], item.name, status, message)

    def findings(self, exercise: Exercise) -> list[Finding]:
        """What the sandboxes saw of the graded module, then what its source shows."""
        module_file = exercise.module_file(self.submission)
        scanned = scan_source(module_file.read_text(encoding="utf-8", errors="replace"), module_file.name) \
            if module_file.is_file() else []
        return list(dict.fromkeys([*self.sandbox_findings.get(exercise.id, []), *scanned]))

    def report(self) -> dict[str, Any]:
        exercises = load_exercises()
        outcomes = {**self.expected, **self.outcomes}
        graded = {outcome.exercise for outcome in outcomes.values()}
        findings = {exercise.id: self.findings(exercise) for exercise in exercises if exercise.id in graded}
        return build_report(exercises, outcomes.values(), findings, self.protections)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        path = self.config.getoption("report_json")
        if path is None or exitstatus == pytest.ExitCode.USAGE_ERROR:
            return
        path.write_text(json.dumps(self.report(), indent=2) + "\n", encoding="utf-8")

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        if self.submission:
            what = f"grading the student's files in {self.submission}"
        elif all("exercises" in (config.invocation_params.dir / argument.split("::")[0]).resolve().parts
                 for argument in config.args):
            what = "testing the student's files in exercises/ with the visible tests"
        else:
            what = "grading the reference solutions (solutions/)"
        lines = [f"concurrency kit: {what}; usable cores: {_usable_cores()}"]
        if self.protections:
            lines.append("protections: " + "; ".join(f"{name}: {state}" for name, state in self.protections.items()))
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.expected or self.config.option.collectonly:
            return
        terminalreporter.section("points")
        for exercise in self.report()["exercises"]:
            for line in summary_lines(exercise):
                terminalreporter.line(line)


def summary_lines(exercise: dict[str, Any]) -> list[str]:
    """An exercise's points, its integrity status beside them, and what needs explaining."""
    groups = ", ".join(f"{g['name']} {g['points']}/{g['max_points']}" for g in exercise["groups"])
    integrity = exercise["integrity"]
    lines = [f"{exercise['id']}: {exercise['points']}/{exercise['max_points']} [{integrity['status']}] ({groups})"]
    lines += [f"    {group['name']}: {group['note']}" for group in exercise["groups"]
              if group["note"] and group["status"] != "not run"]  # a -k run leaves groups out on purpose
    if integrity["status"] != CLEAN:
        lines += [f"    {integrity['status']}: {evidence}" for evidence in integrity["evidence"]]
    if exercise["message"]:
        lines.append(f"    {exercise['message']}")
    return lines


def _skip_reason(report: pytest.TestReport) -> str:
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else report.longreprtext
    return reason.removeprefix("Skipped: ")


def _short_message(report: pytest.TestReport) -> str:
    text = report.longreprtext
    return text if len(text) <= 4000 else text[:4000] + "\n..."
