"""The pytest plugin of the visible tests: seeds, forced schedules, a loopback server.

In a student's repository the `pytest11` entry point loads this module, and its `RuntimePlugin`
takes part in runs that collect from `exercises/`. In the kit the grader's plugin
(grader/harness/plugin.py) builds on the same class. It adds:

* the option `--seed N` (replay a failed test's inputs and schedules);
* fixtures: `test_seed`, `rng`, `schedules`, `loopback`;
* short failure reports: a stub's NotImplementedError, and a test's own message with its line
  (without pytest's source excerpt and `+ where ... at 0x...` explanation);
* the marker `timing` of the visible tests that a busy machine can fail;
* a header naming what the run tests.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency kit")
    group.addoption("--seed", type=int, default=None, metavar="N",
                    help="replay the inputs and schedules of a failed test")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "timing: its verdict measures a speedup or how long a call takes,"
                                       " which a busy machine can fail (`status` leaves it out)")
    if any("exercises" in (config.invocation_params.dir / argument.split("::")[0]).resolve().parts
           for argument in config.args):
        config.pluginmanager.register(RuntimePlugin(config), "concurrency_kit_runtime_fixtures")


# What a race check adds when its failure does not depend on how the threads interleave.
NOT_A_RACE = ("It goes wrong the same way without forced thread switches: it does not depend on how the"
              " threads interleave.")


@dataclass(frozen=True)
class Schedules:
    """Seeds for the forced-interleaving schedules of one race check."""

    base: int
    nodeid: str  # the test id to replay, parameters included
    submission: Path | None  # as the replay command names it: relative to the current folder

    def seeds(self, count: int) -> list[int]:
        return [self.base + offset for offset in range(count)]

    def failure(self, what: str, block: Any = None, *, without_switches: bool = False,
                kinds: tuple[str, ...] | None = None) -> str:
        """A race check's message: what went wrong, the story of the interleaving that did it
        when the forced-interleavings `block` can tell one (only of `kinds` if given: see
        race_story.py), and the replay command. When the check went wrong `without_switches` too
        (run again with no switch forced), the failure does not depend on the interleaving: it
        says so, with no story and no replay command."""
        if without_switches:
            return f"{what} {NOT_A_RACE}"
        story = None if block is None else block.story() if kinds is None else block.story(kinds)
        return " ".join(filter(None, [what, story, f"({self.replay_hint()})"]))

    def replay_hint(self) -> str:
        command = f'python -m pytest "{self.nodeid}" --seed {self.base}'
        if self.submission is not None:
            command += f' --submission "{self.submission}"'
        return f"to see these thread switches again, run: {command}"


def replay_id(item: pytest.Item, invocation_dir: Path) -> str:
    """The item's test id, relative to invocation_dir, with its parameters except those the
    kit adds for the benchmark (--seed-sweep's seedN, --repeat's runN): a replay runs the test
    once, with --seed."""
    path = Path(os.path.relpath(item.path, invocation_dir)).as_posix()
    name = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return f"{path}::{name}"
    function, ids = name[:-1].split("[", 1)
    for param, prefix in (("test_seed", "seed"), ("run_number", "run")):
        if param in callspec.params:
            added = re.escape(f"{prefix}{callspec.params[param]}")
            ids = re.sub(rf"^{added}(-|$)|-{added}(?=-|$)", "", ids)
    return f"{path}::{function}[{ids}]" if ids else f"{path}::{function}"


def not_written_yet(error: BaseException) -> str | None:
    """The short report of a stub that still raises NotImplementedError, else None."""
    if isinstance(error, NotImplementedError):
        return f"not implemented yet: {error or 'see the TODO in the exercise file'}"
    return None


def failure_message(error: BaseException) -> str:
    """What a failure says in a student's words: the test's own message, without pytest's
    `assert ...` and `+ where ... object at 0x...` explanation."""
    short = not_written_yet(error)
    if short:
        return short
    text = str(error)
    if isinstance(error, AssertionError):
        return re.split(r"\n(?:assert |\s*\+ |\s*where )", text, maxsplit=1)[0].strip() or "a check failed"
    if type(error).__name__ == "Failed" and text.startswith("Timeout"):
        return f"did not finish in time ({text}): a deadlock, or a thread that never ends?"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# pytest's explanation of where a value came from when it names an object by its address, and
# its advice on verbosity options.
_NOISE = re.compile(r"^\s*\+\s+(where|and)\b.*\bat 0x[0-9a-fA-F]+"
                    r"|^\s*(Omitting \d+ identical items, use -vv to show|Use -v to get more diff)\s*$")


def short_report(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """A failure as the student needs it: the test's line, its own message and pytest's
    comparison, without the source excerpt and the `+ where ... at 0x...` lines. None for an
    assertion without a message of its own, whose full report pytest gives best."""
    error = excinfo.value
    if not_written_yet(error):
        return not_written_yet(error)
    if not isinstance(error, AssertionError) or not error.args or not isinstance(error.args[0], str):
        return None
    lines = [entry.lineno + 1 for entry in excinfo.traceback if Path(str(entry.path)) == item.path]
    where = f"{item.path.name}:{lines[-1]}: " if lines else ""
    text = "\n".join(line for line in str(error).splitlines() if not _NOISE.match(line))
    return where + text


class RuntimePlugin:
    """Fixtures and reports of a run of exercise tests."""

    submission: Path | None = None  # the student repository a grading run names; None: this one

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.fixture
    def test_seed(self, request: pytest.FixtureRequest) -> int:
        """The one seed of a test: fresh every run (so nothing can be learned), fixed with --seed
        or by --seed-sweep. It drives the inputs (`rng`) and the forced schedules (`schedules`)."""
        base = getattr(request, "param", None) or request.config.getoption("seed")
        if base is None:
            base = random.SystemRandom().randrange(1, 1_000_000)
        return base

    @pytest.fixture
    def rng(self, test_seed: int) -> random.Random:
        """The test's only source of randomness for inputs, sizes and workloads, so that the
        replay command of a failure reproduces the same numbers."""
        return random.Random(test_seed)

    @pytest.fixture
    def schedules(self, request: pytest.FixtureRequest, test_seed: int) -> Schedules:
        """Seeds of the forced-interleaving schedules of one race check."""
        here = request.config.invocation_params.dir
        submission = Path(os.path.relpath(self.submission.resolve(), here)) if self.submission else None
        return Schedules(test_seed, replay_id(request.node, here), submission)

    @pytest.fixture
    def loopback(self) -> Iterator[Any]:
        """A real HTTP server on 127.0.0.1 that counts requests in flight on its side."""
        from student_runtime.loopback import LoopbackServer  # only the HTTP exercises need it

        with LoopbackServer() as server:
            yield server

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if call.excinfo is not None and report.failed:
            report.longrepr = short_report(item, call.excinfo) or report.longrepr

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return ["concurrency kit: testing your files in exercises/"]
