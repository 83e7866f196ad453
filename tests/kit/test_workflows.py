"""The shipped GitHub Actions workflows call the kit's command line as it really is."""

from __future__ import annotations

import re
import shlex

import pytest

from grader.cli import build_parser
from grader.manifest import KIT_ROOT

WORKFLOWS = sorted((KIT_ROOT / ".github" / "workflows").glob("*.yml"))
COMMANDS = [(path.name, line.split("run:", 1)[-1].strip())
            for path in WORKFLOWS for line in path.read_text(encoding="utf-8").splitlines()
            if "python -m grader " in line]


def test_the_class_workflow_grades_in_shards_and_merges():
    assert [name for name, _ in COMMANDS].count("grade-class.yml") == 2
    assert {command.split()[3] for _, command in COMMANDS} >= {"grade", "merge"}


@pytest.mark.parametrize("workflow, command", COMMANDS)
def test_every_grader_command_in_a_workflow_parses(workflow, command):
    # Shell variables stand for values the workflow fills in: a shard number will do for each.
    words = shlex.split(re.sub(r"\$\{?(\w+)\}?", "2", command))
    assert words[:3] == ["python", "-m", "grader"], command
    try:
        build_parser().parse_args(words[3:])
    except SystemExit:
        pytest.fail(f"{workflow}: `{command}` is not a valid command of the kit")
