"""The pytest plugin shared by the visible exercise tests and the hidden grading suites.

Registered through the `pytest11` entry point, so every pytest run in the kit has it. It adds:

* options: `--submission PATH` (grade a student repository instead of solutions/),
  `--seed N` (replay a race check's schedules), `--seed-sweep N` (run every race check for
  seeds 1..N, for the benchmark) and `--report-json FILE` (points per group, see scoring.py);
* fixtures: `exercise`, `sandbox`, `student`, `reference`, `schedules`, `loopback`,
  `usable_cores`;
* short failure reports: a verdict on student code (a `SubmissionFailure`, or a stub's
  `NotImplementedError`) is shown as its message, not as a wall of traceback.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.harness.sandbox import Sandbox, SubmissionFailure
from grader.harness.timing import usable_cores as _usable_cores
from grader.manifest import Exercise, exercise_for_path, load_exercises
from grader.scoring import TestOutcome, build_report

_OUTCOMES = pytest.StashKey[dict[str, TestOutcome]]()  # by node id


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency kit")
    group.addoption("--submission", type=Path, default=None, metavar="PATH",
                    help="student repository to grade (PATH/exercises/<id>/<module>.py);"
                         " default: the reference solutions in solutions/")
    group.addoption("--seed", type=int, default=None, metavar="N",
                    help="replay the schedules of a failed race check")
    group.addoption("--seed-sweep", type=int, default=None, metavar="N",
                    help="run every race check once for each seed 1..N (benchmark)")
    group.addoption("--report-json", type=Path, default=None, metavar="FILE",
                    help="write the points earned per exercise and group to FILE")
    group.addoption("--repeat", type=int, default=None, metavar="N",
                    help="run every hidden test N times (benchmark of verdict stability)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_OUTCOMES] = {}
    # Registered here as well as in pyproject.toml, for visible tests run outside the kit.
    config.addinivalue_line("markers", "group(name): the points group of a hidden test in exercises.toml")
    config.addinivalue_line("markers", "race: a race check under forced interleavings")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    sweep = metafunc.config.getoption("seed_sweep")
    if sweep and "schedules" in metafunc.fixturenames:
        metafunc.parametrize("test_seed", range(1, sweep + 1), indirect=True,
                             ids=lambda seed: f"seed{seed}")
    repeat = metafunc.config.getoption("repeat")
    if repeat and metafunc.definition.get_closest_marker("group"):
        metafunc.fixturenames.append("run_number")
        metafunc.parametrize("run_number", range(1, repeat + 1), ids=lambda n: f"run{n}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        exercise = exercise_for_path(item.path)
        if exercise is None:
            continue
        if "schedules" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.race)
        if not item.get_closest_marker("timeout"):
            # A backstop behind the sandbox's own deadline; for the visible tests, which run
            # the student's code in-process, the only guard against a deadlock.
            hidden = item.get_closest_marker("group") is not None
            item.add_marker(pytest.mark.timeout(exercise.time_limit * (2 if hidden else 1)))


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def exercise(request: pytest.FixtureRequest) -> Exercise:
    """The manifest entry of the exercise whose folder holds the test file."""
    found = exercise_for_path(request.path)
    if found is None:
        raise pytest.UsageError(f"{request.path} is not inside an exercise folder of exercises.toml")
    return found


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, exercise: Exercise) -> Iterator[Callable[..., Sandbox]]:
    """Factory: sandbox(of="student" | "reference", start_method=None) -> a started Sandbox.

    Probes come from probes.py beside the test file. Every sandbox is a fresh process, so
    nothing a submission caches survives from one test to the next.
    """
    submission = request.config.getoption("submission")
    probes_file = request.path.parent / "probes.py"
    opened: list[Sandbox] = []

    def open_sandbox(of: str = "student", start_method: str | None = None) -> Sandbox:
        module_file = exercise.module_file(submission if of == "student" else None)
        box = Sandbox(module_file, probes_file, start_method=start_method, timeout=exercise.time_limit)
        opened.append(box)
        box.start()
        return box

    yield open_sandbox
    for box in opened:
        box.close()


@pytest.fixture
def student(sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The submission's module in a fresh sandbox."""
    return sandbox("student")


@pytest.fixture
def reference(sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The reference solution in a fresh sandbox, to calibrate timing checks against."""
    return sandbox("reference")


@dataclass(frozen=True)
class Schedules:
    """Seeds for the forced-interleaving schedules of one race check."""

    base: int
    nodeid: str
    submission: Path | None

    def seeds(self, count: int) -> list[int]:
        return [self.base + offset for offset in range(count)]

    def replay_hint(self) -> str:
        command = f'python -m pytest "{self.nodeid}" --seed {self.base}'
        if self.submission is not None:
            command += f" --submission {self.submission}"
        return f"schedule seed {self.base}; replay it with: {command}"


@pytest.fixture
def test_seed(request: pytest.FixtureRequest) -> int:
    """The one seed of a test: fresh every run (so nothing can be learned), fixed with --seed
    or by --seed-sweep. It drives the inputs (`rng`) and the forced schedules (`schedules`)."""
    base = getattr(request, "param", None) or request.config.getoption("seed")
    if base is None:
        base = random.SystemRandom().randrange(1, 1_000_000)
    return base


@pytest.fixture
def rng(test_seed: int) -> random.Random:
    """The test's only source of randomness for inputs, sizes and workloads, so that the
    replay command of a failure reproduces the same numbers."""
    return random.Random(test_seed)


@pytest.fixture
def schedules(request: pytest.FixtureRequest, test_seed: int) -> Schedules:
    """Seeds of the forced-interleaving schedules of one race check."""
    nodeid = request.node.nodeid.split("[")[0]
    return Schedules(test_seed, nodeid, request.config.getoption("submission"))


@pytest.fixture
def loopback() -> Iterator[Any]:
    """A real HTTP server on 127.0.0.1 that counts requests in flight on its side."""
    from grader.harness.loopback import LoopbackServer  # only the HTTP exercises need it

    with LoopbackServer() as server:
        yield server


@pytest.fixture
def usable_cores() -> int:
    return _usable_cores()


# -- reports --------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
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
        elif isinstance(error, NotImplementedError):
            report.longrepr = f"not implemented yet: {error or 'see the TODO in the exercise file'}"
    _record_outcome(item, report)


def _record_outcome(item: pytest.Item, report: pytest.TestReport) -> None:
    """One outcome per hidden test: its call's, or the first setup or teardown failure."""
    marker = item.get_closest_marker("group")
    exercise = exercise_for_path(item.path)
    if marker is None or exercise is None or (report.when != "call" and report.passed):
        return
    outcomes = item.config.stash[_OUTCOMES]
    earlier = outcomes.get(item.nodeid)
    if earlier is not None and earlier.status != "pass":
        return
    if report.passed:
        status, message = "pass", ""
    elif report.skipped:
        status, message = "skip", _short_message(report)
    else:
        status, message = ("fail" if report.when == "call" else "error"), _short_message(report)
    outcomes[item.nodeid] = TestOutcome(exercise.id, marker.args[0], item.name, status, message)


def _short_message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    text = report.longreprtext
    return text if len(text) <= 4000 else text[:4000] + "\n..."


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("report_json")
    if path is None:
        return
    report = build_report(load_exercises(), session.config.stash[_OUTCOMES].values())
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def pytest_report_header(config: pytest.Config) -> str:
    submission = config.getoption("submission")
    graded = submission.resolve() if submission else "the reference solutions (solutions/)"
    return f"concurrency kit: grading {graded}; usable cores: {_usable_cores()}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    outcomes = config.stash[_OUTCOMES]
    if not outcomes:
        return
    report = build_report(load_exercises(), outcomes.values())
    terminalreporter.section("points")
    for exercise in report["exercises"]:
        groups = ", ".join(f"{g['name']} {g['points']}/{g['max_points']}" for g in exercise["groups"])
        terminalreporter.line(f"{exercise['id']}: {exercise['points']}/{exercise['max_points']} ({groups})")
