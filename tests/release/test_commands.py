"""The student's `status`, `check` and `watch` in a released template, installed as a student
installs it, and `python -m grader status` on the kit's own stubs."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.cli import main as grader_main
from grader.manifest import load_exercises

EXERCISES = load_exercises()
BY_NUMBER = {exercise.id[:2]: exercise for exercise in EXERCISES}
IDS = [exercise.id for exercise in EXERCISES]
# Long enough that a busy machine never cuts a run short: these tests are about verdicts, not speed.
PATIENT = "120"


@pytest.fixture
def repository(released: Path, installed: Path, tmp_path: Path) -> Path:
    """A student's copy of the release (its environment is the release's)."""
    copy = tmp_path / "repository"
    shutil.copytree(released, copy, ignore=shutil.ignore_patterns(".venv", "*.egg-info", "__pycache__"))
    return copy


def put(repository: Path, number: str, source: Path) -> None:
    """The student's module of exercise `number` becomes a copy of source."""
    exercise = BY_NUMBER[number]
    shutil.copy(source, repository / "exercises" / exercise.id / f"{exercise.module}.py")


def mutant(number: str, name: str) -> Path:
    return BY_NUMBER[number].mutants_dir / f"{name}.py"


def student(python: Path, repository: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "student_runtime", *arguments], cwd=repository,
                          capture_output=True, text=True, timeout=600)


def table(output: str) -> dict[str, tuple[str, str]]:
    """exercise id -> (state, tests passed), from the status table."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 3 and cells[0] in IDS:
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def timing_tests(repository: Path) -> int:
    return sum(path.read_text(encoding="utf-8").count("@pytest.mark.timing")
               for path in repository.glob("exercises/*/test_*.py"))


def test_status_of_the_untouched_template(installed, repository):
    run = student(installed, repository, "status", "--timeout", PATIENT)
    assert run.returncode == 1, run.stdout + run.stderr
    rows = table(run.stdout)
    assert list(rows) == IDS
    assert {state for state, _ in rows.values()} == {"not started"}, run.stdout
    assert all(passed.startswith("0/") for _, passed in rows.values()), run.stdout
    assert (f"Next: {EXERCISES[0].id}. `python -m student_runtime check 01` shows what fails,"
            " `python -m student_runtime hint 01` gives a hint.") in run.stdout
    assert timing_tests(repository) > 0
    assert (f"Left out: {timing_tests(repository)} timing tests (speedups, how long a call takes), which a busy"
            " machine can fail; `python -m student_runtime check NN` runs them too.") in run.stdout


def test_status_when_every_exercise_is_solved(installed, repository):
    for exercise in EXERCISES:
        put(repository, exercise.id[:2], exercise.module_file())
    run = student(installed, repository, "status", "--timeout", PATIENT)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = table(run.stdout)
    assert len(rows) == len(EXERCISES) and {state for state, _ in rows.values()} == {"passing"}, run.stdout
    for _, passed in rows.values():
        done, total = passed.split("/")
        assert done == total and int(total) > 0, run.stdout
    assert "Every exercise passes its visible tests." in run.stdout


def test_status_of_a_mix_names_the_first_exercise_not_passing_as_next(installed, repository):
    put(repository, "01", BY_NUMBER["01"].module_file())
    put(repository, "04", BY_NUMBER["04"].module_file())
    put(repository, "05", mutant("05", "results_not_reset"))
    put(repository, "06", mutant("06", "square_root_excluded"))
    run = student(installed, repository, "status", "--timeout", PATIENT)
    assert run.returncode == 1, run.stdout + run.stderr
    states = {exercise_id: state for exercise_id, (state, _) in table(run.stdout).items()}
    assert states == {
        "01_race_condition": "passing", "02_lock": "not started", "03_semaphore": "not started",
        "04_event": "passing", "05_queue": "failing", "06_primes": "failing",
        "07_scraper": "not started", "08_futures": "not started",
    }, run.stdout
    assert "Next: 02_lock." in run.stdout


def test_status_stops_an_exercise_that_hangs_and_says_so(installed, repository):
    hanging = repository / "hangs.py"
    hanging.write_text("import time\n\ntime.sleep(3600)  # at import: the tests never start\n", encoding="utf-8")
    put(repository, "05", hanging)
    run = student(installed, repository, "status", "--timeout", "3")
    assert table(run.stdout)["05_queue"] == ("failing", "none ran, stopped after 3 s"), run.stdout
    assert ("05_queue: its tests were stopped after 3 s (a wait that is not cut short, a deadlock, or a thread"
            " that never ends?); `python -m student_runtime check 05` runs them to the end.") in run.stdout


def test_check_shows_pytests_report_then_what_failed_and_why(installed, repository):
    put(repository, "06", mutant("06", "square_root_excluded"))
    run = student(installed, repository, "check", "6", "--seed", "1")
    assert run.returncode == 1, run.stdout + run.stderr
    report, summary = run.stdout.split("\n\n06_primes: ", 1)
    assert "exercises/06_primes/test_primes.py FFFFF.F." in report
    assert "the divisors tried must include isqrt(n) itself" in report
    assert not re.search(r"rootdir|plugins|warnings summary|_pytest|importlib| at 0x|-vv", report), report
    assert "06_primes: " + summary == (
        '06_primes: 2 of 8 visible tests pass. What failed and why:\n'
        '- test_is_prime_on_small_numbers: is_prime is wrong: is_prime(4) returned True: 4 = 2 * 2 is not prime is_prime(6) returned True: 6 = 2 * 3 is not prime is_prime(8) returned True: 8 = 2 * 4 is not prime is_prime(9) returned True: 9 = 3 * 3 is not prime is_prime(15) returned True: 15 = 3 * 5 is not prime ... and 10 more A number like 25 = 5 * 5 has no divisor below its square root: the divisors tried must include isqrt(n) itself, as in range(2, math.isqrt(n) + 1).\n'
        '- test_is_prime_on_large_numbers: is_prime is wrong: is_prime(999966000289) returned True: 999966000289 = 999983 * 999983 is not prime A number like 25 = 5 * 5 has no divisor below its square root: the divisors tried must include isqrt(n) itself, as in range(2, math.isqrt(n) + 1).\n'
        '- test_check_functions_map_every_number[check_sequential]: wrong result: check_sequential(<48 numbers>)[25] is True: 25 = 5 * 5 is not prime\n'
        '- test_check_functions_map_every_number[check_threads]: wrong result: check_threads(<48 numbers>, 3)[25] is True: 25 = 5 * 5 is not prime\n'
        '- test_check_functions_map_every_number[check_processes]: wrong result: check_processes(<48 numbers>, 3)[25] is True: 25 = 5 * 5 is not prime\n'
        '- test_check_threads_checks_each_number_once_under_forced_interleavings: race in check_threads: a number was skipped or wrong with forced thread switches. It goes wrong the same way without forced thread switches: it does not depend on how the threads interleave.\n'
        'A hint: `python -m student_runtime hint 06`.\n'
    )


def test_check_of_a_module_that_does_not_parse(installed, repository):
    broken = repository / "broken.py"
    broken.write_text("def submit(self:\n", encoding="utf-8")
    put(repository, "05", broken)
    run = student(installed, repository, "check", "05_queue")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "05_queue: no test ran. What failed and why:\n- the tests could not start: " in run.stdout
    assert "SyntaxError" in run.stdout.split("05_queue: no test ran.")[1]


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's output, a line at a time, read on a thread so that waiting for one can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")  # the end

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    while True:
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            pytest.fail(f"no {text!r} within 120 s; the output so far:\n{''.join(seen)}")
        assert line, f"the command ended before printing {text!r}:\n{''.join(seen)}"
        seen.append(line)
        if text in line:
            return


@pytest.fixture
def watching(installed: Path, repository: Path) -> Iterator[subprocess.Popen[str]]:
    """`watch 01` in a session of its own (as a terminal's Ctrl-C reaches a command and its children),
    with Ctrl-C's signal handled as in a terminal even when this run was started in the
    background, where the shell has it ignored and a child would inherit that."""
    process = subprocess.Popen([str(installed), "-m", "student_runtime", "watch", "01"], cwd=repository,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.skipif(os.name != "posix", reason="Ctrl-C is sent as SIGINT to the process group")
def test_watch_reruns_the_tests_when_the_module_is_saved_and_ctrl_c_ends_it(watching, repository):
    lines, seen = lines_of(watching), []
    watched = "Watching exercises/01_race_condition/counter.py: save it to run the tests again; Ctrl-C stops."
    wait_for(lines, "01_race_condition: 0 of 3 visible tests pass.", seen)
    wait_for(lines, watched, seen)
    put(repository, "01", BY_NUMBER["01"].module_file())
    wait_for(lines, "01_race_condition: all 3 visible tests pass.", seen)
    wait_for(lines, watched, seen)
    os.killpg(watching.pid, signal.SIGINT)
    assert watching.wait(timeout=60) == 0, "".join(seen)
    wait_for(lines, "Stopped watching.", seen)


def test_the_kits_status_tests_the_kits_own_stubs(capsys):
    assert grader_main(["status", "--timeout", PATIENT]) == 1
    out = capsys.readouterr().out
    rows = table(out)
    assert list(rows) == IDS
    assert {state for state, _ in rows.values()} == {"not started"}, out
    assert "`python -m grader check 01` shows what fails, `python -m grader hint 01` gives a hint." in out
