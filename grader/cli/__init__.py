"""The command line: `python -m grader <command>`, one module per command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from grader.cli import (bench, check, demo, dev_check, docs, grade, gradescope_bundle, hint, merge, release, status,
                        watch)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (demo, grade, merge, gradescope_bundle, release, dev_check, docs, bench, status, hint, check, watch):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return arguments.run(arguments)
