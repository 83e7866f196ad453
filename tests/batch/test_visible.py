"""`grade --visible` runs the student's code through a launcher that confines it first."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.harness.confine import IN_FORCE, landlock_abi, protections_in_force


def launch(tmp_path, code: str) -> subprocess.CompletedProcess[str]:
    box = tmp_path / "box"
    (box / "tmp").mkdir(parents=True)
    return subprocess.run([sys.executable, "-m", "grader.batch.visible", "--write", str(box), "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "TMPDIR": str(box / "tmp")})


def test_the_launcher_reports_its_protections_before_the_command_runs(tmp_path):
    run = launch(tmp_path, "print('the command ran')")
    protections = json.loads(run.stdout.splitlines()[0])
    assert set(protections) == {"resource limits", "landlock", "socket filter"}
    assert run.stdout.splitlines()[1] == "the command ran"


def test_the_command_makes_tcp_sockets_but_no_udp_ones(tmp_path):
    if not protections_in_force()["socket filter"].startswith(IN_FORCE):
        pytest.skip("no seccomp socket filter on this machine: UDP stays open")
    run = launch(tmp_path, "import socket\n"
                           "socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()\n"
                           "print('tcp made')\n"
                           "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)")
    assert "tcp made" in run.stdout
    assert "PermissionError" in run.stderr


def test_the_command_writes_only_in_its_folder(tmp_path):
    if landlock_abi() == 0:
        pytest.skip("this kernel has no Landlock: the launcher sets resource limits only")
    outside = tmp_path / "outside.txt"
    run = launch(tmp_path, f"open({str(tmp_path / 'box' / 'inside.txt')!r}, 'w').write('x')\n"
                           f"open({str(outside)!r}, 'w').write('x')")
    assert "PermissionError" in run.stderr
    assert (tmp_path / "box" / "inside.txt").exists() and not outside.exists()
