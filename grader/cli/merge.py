"""`python -m grader merge OUT1 OUT2 ... --out OUT`: join the grades of shards (`grade --shard
K/N` on several machines) into one class: every student's folder, and one grades.csv."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from grader.batch.run import GRADES_FILE, read_results, write_grades
from grader.cli.grade import add_publish_options, publish
from grader.manifest import load_exercises


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("merge", help="merge the grades of shards into one class", description=__doc__)
    parser.add_argument("shards", type=Path, nargs="+", metavar="OUT_K", help="the --out folders of the shards")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="where to write the class")
    add_publish_options(parser)
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    owner: dict[str, Path] = {}
    for shard in arguments.shards:
        if not (shard / GRADES_FILE).is_file():
            print(f"error: {shard}: no {GRADES_FILE}; give the --out folders of `grade --shard`", file=sys.stderr)
            return 2
        for results in read_results(shard):
            student = results["student"]
            if student in owner and owner[student] != shard:
                print(f"error: student {student!r} is in both {owner[student]} and {shard}; were the shards"
                      " graded with the same N?", file=sys.stderr)
                return 2
            owner[student] = shard
    for student, shard in owner.items():
        if shard.resolve() != arguments.out.resolve():
            shutil.copytree(shard / student, arguments.out / student, dirs_exist_ok=True)
    results = read_results(arguments.out)
    results = [document for document in results if document["student"] in owner]
    graded = {exercise["id"] for document in results for exercise in document["exercises"]}
    exercises = [exercise for exercise in load_exercises() if exercise.id in graded]
    write_grades(arguments.out, results, [exercise.id for exercise in exercises])
    print(f"merged {len(results)} student(s) from {len(arguments.shards)} shard(s) into {arguments.out / GRADES_FILE}")
    publish(arguments, exercises, results)
    return 0
