"""`grade --visible` runs the student's code through a launcher that confines it first."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.harness.confine import landlock_abi


def launch(tmp_path, code: str) -> subprocess.CompletedProcess[str]:
    box = tmp_path / "box"
    (box / "tmp").mkdir(parents=True)
    return subprocess.run([sys.executable, "-m", "grader.batch.visible", "--write", str(box), "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TMPDIR": str(box / "tmp")})


def test_the_launcher_reports_its_protections_before_the_command_runs(tmp_path):
    run = launch(tmp_path, "print('the command ran')")
    protections = json.loads(run.stdout.splitlines()[0])
    assert set(protections) == {"resource limits", "landlock"}
    assert run.stdout.splitlines()[1] == "the command ran"


def test_the_command_writes_only_in_its_folder(tmp_path):
    if landlock_abi() == 0:
        pytest.skip("this kernel has no Landlock: the launcher sets resource limits only")
    outside = tmp_path / "outside.txt"
    run = launch(tmp_path, f"open({str(tmp_path / 'box' / 'inside.txt')!r}, 'w').write('x')\n"
                           f"open({str(outside)!r}, 'w').write('x')")
    assert "PermissionError" in run.stderr
    assert (tmp_path / "box" / "inside.txt").exists() and not outside.exists()
