"""Test runs in processes of their own, and the one way every command stops them.

A run starts in a session of its own (POSIX), so that stopping it reaches whatever it started:
worker processes, a thread pool's helpers, a student's forgotten subprocess.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any

NEW_SESSION = os.name == "posix"  # Windows has no sessions: a run's own process is all it stops


def stop_session(process: subprocess.Popen[Any]) -> None:
    """Kill `process` (started with start_new_session=NEW_SESSION) and every process of its
    session, whether or not it has ended itself, then reap it."""
    if NEW_SESSION:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a process that left the session may hold a pipe
        process.communicate(timeout=10)
