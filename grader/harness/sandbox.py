"""Run untrusted student code in a child process and judge it from this one.

The hidden suites never import a student's module. A `Sandbox` starts `python -I` in a fresh
empty folder with limits on memory, CPU time, file size and processes, imports the student's
module there next to trusted probe functions, and asks it to run one probe at a time. What
comes back is plain JSON data, so an object with a rigged `__eq__` has nothing to rig; the
timings are taken here, so patching `time` in the child changes nothing; and a call that does
not return in time is a hang: the child's threads are dumped, the whole process group is
killed, and the test fails with the stacks instead of freezing the suite.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from grader.harness.timing import cpu_clock_of
from grader.manifest import KIT_ROOT

CHILD_SCRIPT = Path(__file__).with_name("child.py")

# Seconds the child gets to write its thread dump after a call's deadline before it is killed.
_DUMP_GRACE = 1.5
_STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Limits:
    """Resource limits of the student's process (POSIX; Windows gets the timeout only)."""

    memory_bytes: int = 8 << 30  # address space: generous, since every thread reserves a stack
    cpu_seconds: int = 600
    file_bytes: int = 64 << 20
    processes: int = 256  # on top of what the user already runs


class SubmissionFailure(Exception):
    """A verdict on student code, phrased for the student; shown without a Python traceback."""


class StudentCodeError(SubmissionFailure):
    def __init__(self, module: str, error: dict[str, str]) -> None:
        self.type = error["type"]
        self.detail = error["message"]
        message = f"{module}.py raised {self.type}: {self.detail}"
        if error.get("traceback"):
            message += "\n" + error["traceback"].rstrip()
        super().__init__(message)


class NotImplementedYet(StudentCodeError):
    def __init__(self, module: str, error: dict[str, str]) -> None:
        super().__init__(module, error)
        self.args = (f"not implemented yet: {module}.py still raises NotImplementedError"
                     f" ({self.detail or 'see the TODO in the stub'})",)


class StudentCodeHung(SubmissionFailure):
    pass


class StudentProcessDied(SubmissionFailure):
    pass


def _clean_environment() -> dict[str, str]:
    """The parent's environment without proxies (loopback traffic must stay local)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and not name.startswith("PYTHON")
    }


class Sandbox:
    """One child process running one student module; call probes on it with `call()`."""

    def __init__(
        self,
        module_file: Path,
        probes_file: Path,
        *,
        start_method: str | None = None,
        timeout: float = 10.0,
        limits: Limits = Limits(),
    ) -> None:
        self.module_file = Path(module_file)
        self.module = self.module_file.stem
        self.probes_file = Path(probes_file)
        self.start_method = start_method
        self.timeout = timeout
        self.limits = limits
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._workdir = Path(tempfile.mkdtemp(prefix="sandbox-"))
        handle, log_name = tempfile.mkstemp(prefix="sandbox-", suffix=".log")
        os.close(handle)
        self._log_path = Path(log_name)

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if not self.module_file.is_file():
            raise SubmissionFailure(f"missing file: {self.module_file} (expected your solution there)")
        self._log = open(self._log_path, "w+", encoding="utf-8", errors="replace")
        popen_options: dict[str, Any] = {}
        if os.name == "posix":
            # A process group of its own, to kill at the end with every worker it started; not
            # a session of its own, since Linux schedules each session as one group ("autogroup"):
            # a whole process pool would then share one core's worth of time on a busy machine.
            if sys.version_info >= (3, 11):
                popen_options["process_group"] = 0
            else:
                popen_options["preexec_fn"] = os.setpgrp
        else:
            popen_options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(CHILD_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=self._workdir,
            env=_clean_environment(),
            text=True,
            encoding="utf-8",
            **popen_options,
        )
        self._replies = queue.Queue()  # a fresh one: a killed child's end-of-file must not leak
        threading.Thread(target=_read_lines, args=(self._process.stdout, self._replies), daemon=True).start()
        self._send({
            "module": self.module,
            "module_dir": str(self.module_file.parent.resolve()),
            "probes_dir": str(self.probes_file.parent.resolve()),
            "kit_root": str(KIT_ROOT),
            "start_method": self.start_method,
            "limits": asdict(self.limits),
        })
        reply = self._receive(_STARTUP_TIMEOUT, f"importing {self.module}.py")
        if not reply["ok"]:
            raise self._error(reply["error"], during=f"importing {self.module}.py")

    def close(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            try:
                self._process.stdin.close()  # end of requests: the child returns from main()
                self._process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        shutil.rmtree(self._workdir, ignore_errors=True)
        try:
            self._log_path.unlink()
        except OSError:
            pass

    # -- calls ------------------------------------------------------------------------------

    def call(self, probe: str, /, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run probes.<probe>(student_module, **kwargs) in the child and return its plain result.

        `timeout` is this call's own deadline (default: the sandbox's), so no probe can take a
        parameter of that name.
        """
        return self.timed_call(probe, timeout=timeout, **kwargs)[0]

    def timed_call(self, probe: str, /, *, timeout: float | None = None, **kwargs: Any) -> tuple[Any, float]:
        """Like call(), and the wall-clock seconds it took, measured by this (trusted) process."""
        if self._process is None:
            self.start()
        limit = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        self._send({"probe": probe, "kwargs": kwargs, "timeout": limit})
        reply = self._receive(limit + _DUMP_GRACE, probe)
        elapsed = time.perf_counter() - started
        if not reply["ok"]:
            raise self._error(reply["error"], during=probe)
        return reply["value"], elapsed

    def cpu_timed_call(self, probe: str, /, *, timeout: float | None = None, **kwargs: Any) -> tuple[Any, float]:
        """Like timed_call(), but the seconds are the CPU time the child used during the call,
        read from the kernel by this process. Unlike wall-clock time, it does not grow when
        other programs take the CPU away, so it measures a fixed amount of sequential work
        steadily on a busy machine. Where the OS keeps no such clock (only Linux does), the
        wall-clock seconds."""
        if self._process is None:
            self.start()
        assert self._process is not None
        clock = cpu_clock_of(self._process.pid)
        before = clock() if clock else 0.0
        value, seconds = self.timed_call(probe, timeout=timeout, **kwargs)
        return value, (clock() - before) if clock else seconds

    def output(self) -> str:
        """What the child printed so far (student prints, warnings, thread dumps)."""
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    # -- internals --------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except OSError:
            pass  # the child is gone; _receive reports how it ended

    def _receive(self, timeout: float, during: str) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            stacks = self._thread_dump()
            self._kill()
            raise StudentCodeHung(
                f"{during} did not finish within {timeout - _DUMP_GRACE:.1f} s: deadlock, a thread"
                f" that never ends, or an endless loop. Where each thread was stuck:\n{stacks}"
            ) from None
        if line is None:
            code = self._process.wait() if self._process else None
            self._kill()
            raise StudentProcessDied(
                f"the process running {self.module}.py ended (exit code {code}) during {during}:"
                " do not call sys.exit(), os._exit() or exit the interpreter from your code."
                + self._log_tail()
            )
        return json.loads(line)

    def _error(self, error: dict[str, str], during: str) -> SubmissionFailure:
        if error["type"] == "NotImplementedError":
            return NotImplementedYet(self.module, error)
        if error["type"] == "SystemExit":
            return StudentProcessDied(f"{self.module}.py called sys.exit() during {during}")
        return StudentCodeError(self.module, error)

    def _thread_dump(self) -> str:
        self._log.flush()
        text = self.output()
        start = text.rfind("Timeout (")
        if start < 0:
            return "(no thread dump: the process did not answer)"
        return _simplify_dump(text[start:], [CHILD_SCRIPT.parent, self.probes_file.parent])

    def _log_tail(self, characters: int = 2000) -> str:
        text = self.output().strip()
        return f"\nIt printed:\n{text[-characters:]}" if text else ""

    def _kill(self) -> None:
        """Kill the child with every process it started (pool workers included)."""
        process, self._process = self._process, None
        if process is None:
            return
        if os.name == "posix":
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        else:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)
        process.kill()
        process.wait()
        self._log.close()


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _simplify_dump(dump: str, hidden: list[Path]) -> str:
    """Keep the thread headers and the student's and standard library's frames; drop the
    harness's and the probes' frames, which only say 'waiting for work' or 'calling you'."""
    markers = [str(folder.resolve()) for folder in hidden]
    return "\n".join(line for line in dump.splitlines() if not any(m in line for m in markers))
