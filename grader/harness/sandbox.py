"""Run untrusted student code in a child process and judge it from this one.

The hidden suites never import a student's module. A `Sandbox` copies the student's module
file alone into a private folder and starts `python -I` on the trusted runtime, staged once per
grading process into a read-only folder (the child script, the harness modules it needs, the
probes). The kit, the reference solutions, the hidden tests and the rest of the submission are
not on the child's path, and on Linux Landlock keeps the child from reading them at all (see
confine.py for every protection, and `protections_in_force()` for which hold here). Where the
kernel allows it, the child starts in a mount namespace of its own, with fresh /dev/shm, /tmp,
/var/tmp and scratch folder in memory: nothing it writes there outlives it.

The child imports the student's module next to trusted probe functions and runs one probe at a
time. What comes back is plain JSON data signed with a key only the trusted code holds, so an
object with a rigged `__eq__` has nothing to rig and a line written by student code is caught as
a forgery; what the child printed or raised is shown quoted (`quoted()`), so that it cannot pass
for a line of the grader's own output; the timings are taken here, so patching `time` in the
child changes nothing; a call that does not return in time is a hang: the child's threads are
dumped, every process of the sandbox is killed, and the test fails with the stacks instead of
freezing the suite. close() returns only once every process the submission started is gone.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import hmac
import json
import os
import py_compile
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

from grader.harness import audit, confine
from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding
from grader.harness.timing import cpu_of_tree_between, process_tree, uncounted_children
from student_runtime import preempt

_HARNESS = Path(__file__).resolve().parent
_PACKAGE_ROOT = _HARNESS.parent.parent  # the folder that holds the grader and student_runtime packages
_TRUSTED_PACKAGES = ("grader", "student_runtime")
# The child script and every module of the trusted packages it imports, found by reading imports,
# and the runtime modules the probes import (the probes' own imports are not read).
_RUNTIME_ENTRY = ("grader/harness/child.py", "student_runtime/preempt.py", "grader/harness/audit.py",
                  "grader/harness/confine.py", "grader/harness/watchers.py", "student_runtime/deadlock.py")

# Seconds the child gets to write its thread dump after a call's deadline before it is killed.
_DUMP_GRACE = 1.5
_STARTUP_TIMEOUT = 30.0
# Seconds close() waits for the supervisor to kill and reap the sandbox's processes.
_CLEANUP_TIMEOUT = 10.0
# The longest reply line read from the child: a probe's reply is a few kilobytes of plain data,
# while a submission returning a huge value would make this process hold all of it.
MAX_REPLY_BYTES = 16 << 20
# What the reader queues for a line over MAX_REPLY_BYTES: readline() gives b"" only at the end.
_OVERSIZED = b""
# Environment variables the child keeps; the rest (tokens, proxies, PYTHON*) stays here.
_STAGING = threading.Lock()  # sandboxes may start from several threads
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT")


@dataclass(frozen=True)
class Limits:
    """Resource limits of the student's process (POSIX; Windows gets the timeout only)."""

    memory_bytes: int = 8 << 30  # address space: generous, since every thread reserves a stack
    cpu_seconds: int = 600
    file_bytes: int = 64 << 20
    processes: int = 256  # threads and processes, on top of what the user already runs
    folder_bytes: int = 256 << 20  # each private folder (its own, /dev/shm, /tmp, ...), where it has them


_QUOTE = "    | "


def quoted(text: str) -> str:
    """Text the student's code wrote, as lines that each begin with "    | ": no line of it can
    pass for a line of the grader's own output (a points line, say), and no control character
    (a carriage return, a terminal's cursor command) can move what follows to a line's start."""
    return "\n".join(_QUOTE + one_line(line) for line in text.splitlines())


def one_line(text: str) -> str:
    """Text the student's code chose (an exception's name or message), with line breaks and other
    control characters written as escapes, so that it stays on the line it is shown in."""
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() or character == "\t" else repr(character)[1:-1]
                   for character in text)


class SubmissionFailure(Exception):
    """A verdict on student code, phrased for the student; shown without a Python traceback."""


class StudentCodeError(SubmissionFailure):
    def __init__(self, module: str, error: dict[str, str]) -> None:
        self.type = one_line(error["type"])
        self.detail = one_line(error["message"])
        message = f"{module}.py raised {self.type}: {self.detail}"
        if error.get("traceback"):
            message += "\n" + quoted(error["traceback"].rstrip())
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


class ReplyTooLarge(SubmissionFailure):
    """A reply over MAX_REPLY_BYTES: the submission returned more data than any probe's answer needs."""


class ForgedReply(SubmissionFailure):
    """A reply the trusted code did not write: the submission wrote into the grader's channel."""


class RaceCheckNotWatching(SubmissionFailure):
    """The forced-interleavings instrumentation did not run as asked during a call."""


class CpuTimeNotMeasurable(SubmissionFailure):
    """The sandbox's processes kept some of their CPU time from the kernel's accounts."""


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
        allowed_ports: Collection[int] = (),
    ) -> None:
        self.module_file = Path(module_file)
        self.module = self.module_file.stem
        self.probes_file = Path(probes_file)
        self.start_method = start_method
        self.timeout = timeout
        self.limits = limits
        self.allowed_ports = tuple(allowed_ports)
        self._process: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[bytes | None] = queue.Queue()
        self._findings: list[Finding] = []
        self._key = b""
        self._next_id = 0
        self._control: int | None = None
        self._cgroup: confine.PidsCgroup | None = None
        self._box: Path | None = None
        self._probes_dir: Path | None = None
        self._log_path: Path | None = None
        self._log: IO[str] | None = None  # the child's stderr
        self._log_reader: IO[str] | None = None

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        """The process id of the sandbox's process: it leads the process group of everything the
        submission starts, and is the ancestor of all of it."""
        if self._process is None:
            raise RuntimeError("the sandbox is not running")
        return self._process.pid

    @property
    def findings(self) -> list[Finding]:
        """What the calls so far revealed about the submission's conduct (kept after close())."""
        return list(dict.fromkeys(self._findings))

    def start(self) -> None:
        if not self.module_file.is_file():
            raise SubmissionFailure(f"missing file: {self.module_file} (expected your solution there)")
        runtime = _runtime_stage()
        self._probes_dir = _stage_probes(runtime, self.probes_file)
        box = self._box = Path(tempfile.mkdtemp(prefix="sandbox-"))
        code, scratch = box / "code", box / "scratch"
        for folder in (code, scratch / "work", scratch / "tmp"):
            folder.mkdir(parents=True)
        shutil.copyfile(self.module_file, code / self.module_file.name)
        python = confine.python_installation()
        privileges = confine.privilege_plan([*python, str(runtime)])
        private = confine.private_folders_status().startswith(confine.IN_FORCE)
        _share_box(box, privileges)
        if privileges == "capabilities":  # uid 0 ignores RLIMIT_NPROC: a pids cgroup limits it
            self._cgroup = confine.PidsCgroup.create(box.name, self.limits.processes)
        self._key = secrets.token_bytes(32)
        self._next_id = 1
        self._open_log()
        popen_options: dict[str, Any] = {}
        setup: dict[str, Any] = {
            "key": self._key.hex(),
            "module": self.module,
            "module_dir": str(code),
            "probes_dir": str(self._probes_dir),
            "runtime_dir": str(runtime),
            "scratch_dir": str(scratch),
            "start_method": self.start_method,
            "limits": asdict(self.limits),
            "allowed_ports": list(self.allowed_ports),
            "privileges": privileges,
            "cgroup_procs": self._cgroup.procs_file if self._cgroup else None,
            "control_fd": None,
        }
        if os.name == "posix":
            before_exec: list[Callable[[], None]] = []
            # A process group of its own, to kill at the end with every worker it started; not
            # a session of its own, since Linux schedules each session as one group ("autogroup"):
            # a whole process pool would then share one core's worth of time on a busy machine.
            if sys.version_info >= (3, 11):
                popen_options["process_group"] = 0
            else:
                before_exec.append(os.setpgrp)
            if private:
                before_exec.append(confine.private_folders([*python, str(runtime)], str(box), self.limits.folder_bytes))
            if before_exec:
                popen_options["preexec_fn"] = partial(_each, before_exec)
            # The supervisor watches this pipe: its end of file (close(), or this process dying)
            # is the signal to kill every process of the sandbox.
            control_read, self._control = os.pipe()
            popen_options["pass_fds"] = (control_read,)
            setup["control_fd"] = control_read
        else:
            popen_options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(runtime / "grader" / "harness" / "child.py")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=scratch / "work",
                env=_child_environment(scratch),
                **popen_options,
            )
        finally:
            if setup["control_fd"] is not None:
                os.close(setup["control_fd"])
        if private:  # the child has its copy in memory: nothing of the sandbox stays on the disk
            shutil.rmtree(box)
        self._replies = queue.Queue()  # a fresh one: a killed child's end-of-file must not leak
        threading.Thread(target=_read_lines, args=(self._process.stdout, self._replies), daemon=True).start()
        self._send(setup)
        reply = self._receive(_STARTUP_TIMEOUT, f"importing {self.module}.py", 0)
        if not reply["ok"]:
            raise self._error(reply["error"], during=f"importing {self.module}.py")

    def close(self) -> None:
        self._stop()
        self._drop_log()

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
        number, self._next_id = self._next_id, self._next_id + 1
        started = time.perf_counter()
        self._send({"id": number, "probe": probe, "kwargs": kwargs, "timeout": limit})
        reply = self._receive(limit + _DUMP_GRACE, probe, number)
        elapsed = time.perf_counter() - started
        self._send({"id": number, "confirm": True})
        self._receive(_STARTUP_TIMEOUT, probe, number, confirmation=True)
        problems = [one_line(problem) for problem in preempt.instrumentation_problems(
            reply.get("tracer", []),
            expected_blocks=preempt.expected_blocks(kwargs, reply.get("value")) if reply["ok"] else 0,
            expected_caller=str(self._probes_dir / "probes.py") if self._probes_dir else None,
        )]
        if problems:
            self._findings.extend(Finding(TAMPERED, f"during {probe}: {problem}") for problem in problems)
            raise RaceCheckNotWatching("the race check could not watch your code: " + "; ".join(problems))
        if not reply["ok"]:
            raise self._error(reply["error"], during=probe)
        return reply["value"], elapsed

    def cpu_timed_call(self, probe: str, /, *, timeout: float | None = None, **kwargs: Any) -> tuple[Any, float]:
        """Like timed_call(), but the seconds are the CPU time every process of the sandbox used
        during the call (the worker, its threads and all its descendants, those that ended
        meanwhile included), read from the kernel by this process. Unlike wall-clock time, it
        does not grow when other programs take the CPU away, so it measures a fixed amount of
        sequential work steadily on a busy machine. Where the OS keeps no such accounts (only
        Linux's /proc does), the wall-clock seconds."""
        if self._process is None:
            self.start()
        before = process_tree(self.pid)
        value, seconds = self.timed_call(probe, timeout=timeout, **kwargs)
        after = process_tree(self.pid)
        if before is None or after is None:
            return value, seconds
        if (hidden := uncounted_children(before, after)) is not None:
            self._findings.append(Finding(SUSPICIOUS, f"during {probe}: {hidden}"))
            raise CpuTimeNotMeasurable(f"the grader could not measure the CPU time of your code: {hidden}")
        return value, cpu_of_tree_between(before, after)

    def output(self) -> str:
        """What the child printed so far (student prints, warnings, thread dumps), as it printed it:
        show it to the student quoted()."""
        if self._log_reader is None:
            return ""
        self._log_reader.seek(0)
        return self._for_student(self._log_reader.read())

    # -- internals --------------------------------------------------------------------------

    def _open_log(self) -> None:
        """A fresh file for the child's stderr, and a handle of our own to read it with. Its name
        goes at once where the OS allows it (POSIX), so that no log outlives this process."""
        self._drop_log()
        handle, name = tempfile.mkstemp(prefix="sandbox-", suffix=".log")
        self._log = os.fdopen(handle, "w", encoding="utf-8", errors="replace")
        self._log_reader = open(name, encoding="utf-8", errors="replace")
        self._log_path = Path(name)
        _remove(self._log_path)

    def _drop_log(self) -> None:
        if self._log_reader is not None:
            self._log_reader.close()
            self._log_reader = None
        if self._log_path is not None:
            _remove(self._log_path)  # Windows: once nothing has it open
            self._log_path = None

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(message).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:
            pass  # the child is gone; _receive reports how it ended

    def _receive(self, timeout: float, during: str, number: int, confirmation: bool = False) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            stacks = self._thread_dump()
            self._stop()
            raise StudentCodeHung(
                f"{during} did not finish within {timeout - _DUMP_GRACE:.1f} s: deadlock, a thread"
                f" that never ends, or an endless loop. Where each thread was stuck:\n{stacks}"
            ) from None
        if line is None:
            code = self._process.wait() if self._process else None
            self._stop()
            raise self._died(during, code)
        if line == _OVERSIZED:
            self._stop()
            raise ReplyTooLarge(f"during {during}, the result was larger than {MAX_REPLY_BYTES >> 20} MiB;"
                                " the call counts as failed")
        message = self._verified(line)
        if message is None:
            self._findings.append(Finding(TAMPERED, f"during {during}: a reply was not written by the grader's"
                                                     " code (forged on its channel)"))
            self._stop()
            raise ForgedReply(f"during {during}, {self.module}.py wrote a fake answer into the grader's channel;"
                              " the call counts as failed")
        if "exited" in message:
            self._stop()
            raise self._died(during, message["exited"])
        self._findings.extend(Finding(finding.status, one_line(finding.evidence))
                              for finding in audit.findings_from(message.get("audit", [])))
        expected = {"id", "confirmed"} if confirmation else {"id", "ok"}
        if message.get("id") != number or not expected <= message.keys():
            self._findings.append(Finding(TAMPERED, f"during {during}: a reply of the grader's code was replayed"
                                                     " or sent out of turn"))
            self._stop()
            raise ForgedReply(f"during {during}, {self.module}.py made the grader's code answer out of turn;"
                              " the call counts as failed")
        return message

    def _verified(self, line: bytes) -> dict[str, Any] | None:
        """The reply if its tag proves the trusted code wrote it, else None."""
        tag, _, payload = line.rstrip(b"\n").partition(b" ")
        expected = hmac.new(self._key, payload, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(tag, expected):
            return None
        try:
            message = json.loads(payload)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def _died(self, during: str, code: int | None) -> StudentProcessDied:
        return StudentProcessDied(
            f"the process running {self.module}.py ended (exit code {code}) during {during}:"
            " do not call sys.exit(), os._exit() or exit the interpreter from your code."
            + self._log_tail()
        )

    def _error(self, error: dict[str, str], during: str) -> Exception:
        if error["type"] == "HarnessError":
            return RuntimeError(f"the sandbox could not be set up: {error['message']}")
        if error["type"] == "NotImplementedError":
            return NotImplementedYet(self.module, error)
        if error["type"] == "SystemExit":
            return StudentProcessDied(f"{self.module}.py called sys.exit() during {during}")
        return StudentCodeError(self.module, error)

    def _thread_dump(self) -> str:
        if self._log is not None:
            self._log.flush()
        text = self.output()
        start = text.rfind("Timeout (")
        if start < 0:
            return "(no thread dump: the process did not answer)"
        hidden = [str(folder) for folder in (_runtime_stage(), self._probes_dir) if folder is not None]
        return quoted("\n".join(line for line in text[start:].splitlines() if not any(h in line for h in hidden)))

    def _for_student(self, text: str) -> str:
        """`text` with the grading machine's folders taken out of the paths it names."""
        if self._box is not None:
            text = text.replace(str(self._box / "code") + os.sep, "")
        for library in preempt.library_locations():
            text = text.replace(library, "")
        return text

    def _log_tail(self, characters: int = 2000) -> str:
        text = self.output().strip()
        return f"\nIt printed:\n{quoted(text[-characters:])}" if text else ""

    def _stop(self) -> None:
        """Kill the child with every process it started, wait until they are gone, and remove
        the sandbox's folder."""
        process, self._process = self._process, None
        if process is not None:
            if self._control is not None:
                os.close(self._control)  # the supervisor kills and reaps every descendant, then exits
                self._control = None
            try:
                process.wait(timeout=_CLEANUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            if self._cgroup is not None:
                self._cgroup.kill_all()
            _kill_group(process)
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._box is not None:
            shutil.rmtree(self._box, ignore_errors=True)
            self._box = None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass  # gone already, or (Windows) still open


def _each(steps: list[Callable[[], None]]) -> None:
    for step in steps:
        step()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill whatever is left of the sandbox's process group (the fallback where no supervisor
    could reap, e.g. off Linux)."""
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], capture_output=True)


def _child_environment(scratch: Path) -> dict[str, str]:
    """A few harmless variables of ours (no tokens, proxies or PYTHON* settings), with a private
    temporary folder (process pools put their sockets there) and home."""
    environment = {name: value for name, value in os.environ.items() if name.upper() in _KEPT_ENVIRONMENT}
    temporary = str(scratch / "tmp")
    environment.update(TMPDIR=temporary, TEMP=temporary, TMP=temporary, HOME=str(scratch / "work"))
    return environment


def _share_box(box: Path, privileges: str) -> None:
    """Let the unprivileged user the child becomes read its code and write its scratch folder."""
    if privileges != "drop":
        return
    ids = confine.unprivileged_ids()
    assert ids is not None
    box.chmod(0o755)
    for folder, _, files in os.walk(box / "scratch"):
        os.chown(folder, *ids)
        for name in files:
            os.chown(os.path.join(folder, name), *ids)
    for path in (box / "code").rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    (box / "code").chmod(0o755)


def _read_lines(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    """Queue each reply line the child writes, None at its end; a line over MAX_REPLY_BYTES is
    never held whole: _OVERSIZED stands for it, and reading stops (the sandbox is stopped)."""
    while line := stream.readline(MAX_REPLY_BYTES + 1):
        if len(line) > MAX_REPLY_BYTES:
            lines.put(_OVERSIZED)
            return
        lines.put(line)
    lines.put(None)


# -- the staged runtime ---------------------------------------------------------------------------

def runtime_files() -> list[str]:
    """The trusted packages' files the child needs, relative to the folder holding them: the
    child script, the modules it and its imports import from `grader` and `student_runtime`,
    and the packages' __init__ files."""
    wanted, seen = list(_RUNTIME_ENTRY), set()
    while wanted:
        relative = wanted.pop()
        if relative in seen:
            continue
        seen.add(relative)
        for module in _trusted_imports(_PACKAGE_ROOT / relative):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):
                package = Path(*parts[:depth])
                if (_PACKAGE_ROOT / package).is_dir():
                    wanted.append(str(package / "__init__.py"))
                elif (_PACKAGE_ROOT / package.with_suffix(".py")).is_file():
                    wanted.append(str(package.with_suffix(".py")))
    return sorted(seen)


def _trusted_imports(path: Path) -> set[str]:
    """Modules of the trusted packages that `path` imports (at any depth of its code)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] in _TRUSTED_PACKAGES)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in _TRUSTED_PACKAGES:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {*_TRUSTED_PACKAGES, *found}


@lru_cache(maxsize=1)
def _runtime_stage() -> Path:
    """A read-only copy of the trusted runtime, made once per grading process."""
    stage = Path(tempfile.mkdtemp(prefix="kit-runtime-"))
    atexit.register(_remove_stage, stage)
    for relative in runtime_files():
        target = stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_PACKAGE_ROOT / relative, target)
        _compile(target)
    for package in _TRUSTED_PACKAGES:
        _make_read_only(stage / package)
    stage.chmod(0o555)
    return stage


def _stage_probes(stage: Path, probes_file: Path) -> Path:
    """A read-only folder holding a copy of `probes_file` alone, named after its content."""
    content = probes_file.read_bytes()
    folder = stage / f"probes-{hashlib.sha256(content).hexdigest()[:16]}"
    with _STAGING:
        if not folder.is_dir():
            stage.chmod(0o755)
            try:
                folder.mkdir()
                (folder / "probes.py").write_bytes(content)
                _compile(folder / "probes.py")
                _make_read_only(folder)
            finally:
                stage.chmod(0o555)
    return folder


def _compile(source: Path) -> None:
    """Its bytecode beside it, so that no child compiles it again (nor, as root, writes there)."""
    py_compile.compile(str(source), doraise=True)


def _make_read_only(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(0o444 if path.is_file() else 0o555)
    folder.chmod(0o555)


def _remove_stage(stage: Path) -> None:
    for folder, folders, _ in os.walk(stage):
        os.chmod(folder, 0o755)
    shutil.rmtree(stage, ignore_errors=True)
