"""One released template repository and one virtual environment installed in it, shared by the
release tests (installing takes half a minute)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main
from grader.manifest import load_exercises


@pytest.fixture(scope="session")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "template"
    assert main(["release", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def installed(released: Path) -> Path:
    """The python of a fresh virtual environment inside the release, with the one install
    command of its README."""
    subprocess.run([sys.executable, "-m", "venv", str(released / ".venv")], check=True, timeout=300)
    python = released / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", "."], cwd=released,
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    return python


@pytest.fixture(scope="session")
def solved(released: Path, installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the release with every reference module in place of the stubs. The package
    installed in the release's environment is the release's own student_runtime, which the copy
    holds unchanged."""
    copy = tmp_path_factory.mktemp("solved") / "template"
    shutil.copytree(released, copy, ignore=shutil.ignore_patterns(".venv", "*.egg-info"))
    for exercise in load_exercises():
        shutil.copy(exercise.module_file(), copy / "exercises" / exercise.id)
    return copy
