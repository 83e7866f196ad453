"""The student's command line: `python -m student_runtime <command>`, one module per command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from student_runtime.cli import autograde, check, hint, status, watch


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m student_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (status, hint, check, watch, autograde):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return arguments.run(arguments)
