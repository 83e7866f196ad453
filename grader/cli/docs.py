"""`python -m grader docs`: regenerate the manifest-driven parts of the README files."""

from __future__ import annotations

import argparse

from grader import docs
from grader.manifest import KIT_ROOT


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("docs", help="regenerate exercise tables and hints from exercises.toml")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    lost = docs.files_missing_markers()
    stale = docs.stale_files() if arguments.check else docs.write_all()
    for path in stale:
        if path not in lost:
            print(f"{'stale' if arguments.check else 'updated'}: {path.relative_to(KIT_ROOT)}")
    for path in lost:
        print(f"missing markers: {path.relative_to(KIT_ROOT)}; put back the"
              " `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->` lines")
    return 1 if lost or (arguments.check and stale) else 0
