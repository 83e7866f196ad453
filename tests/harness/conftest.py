"""Fixtures shared by the harness tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.harness.sandbox import Sandbox


@pytest.fixture
def sandbox_for(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Sandbox]]:
    """Factory: the given module source in a started sandbox, beside the probes in the test
    module's PROBES; keyword options go to Sandbox (a 10 s call timeout unless given)."""
    opened: list[Sandbox] = []

    def make(source: str, **options: Any) -> Sandbox:
        (tmp_path / "student").mkdir(exist_ok=True)
        (tmp_path / "probes").mkdir(exist_ok=True)
        module_file = tmp_path / "student" / f"submission{len(opened)}.py"
        module_file.write_text(textwrap.dedent(source))
        (tmp_path / "probes" / "probes.py").write_text(request.module.PROBES)
        box = Sandbox(module_file, tmp_path / "probes" / "probes.py", **{"timeout": 10.0, **options})
        opened.append(box)
        box.start()
        return box

    yield make
    for box in opened:
        box.close()
