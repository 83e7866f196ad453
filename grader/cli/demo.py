"""`python -m grader demo`: grade the bundled reference solutions with the hidden suites.

The first command a newcomer runs: it exercises the whole pipeline (sandboxes, loopback
server, process pools, speedup measurement, scoring) on a submission known to be correct.
"""

from __future__ import annotations

import argparse
import time

from grader.manifest import load_exercises
from grader.runner import run_hidden_suites


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="grade the reference solutions with the hidden suites")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    total = maximum = 0
    print(f"{'exercise':<20} {'points':>8} {'seconds':>8}")
    for exercise in load_exercises():
        if not exercise.hidden_suite_dir.is_dir():
            print(f"{exercise.id:<20} {'(no suite yet)':>17}")
            continue
        started = time.perf_counter()
        result = run_hidden_suites([exercise])
        points = result.report["points"]
        total, maximum = total + points, maximum + exercise.max_points
        print(f"{exercise.id:<20} {points:>4}/{exercise.max_points:<3} {time.perf_counter() - started:>8.1f}")
        for name in result.failed_tests():
            print(f"    failed: {name}")
    print(f"{'total':<20} {total:>4}/{maximum:<3}")
    return 0 if total == maximum else 1
