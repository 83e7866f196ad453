"""The child side of the sandbox: imports one student module and runs trusted probes beside it.

Started by `sandbox.Sandbox` as `python -I child.py` from the staged, read-only copy of the
trusted runtime. The first line on stdin is the setup: the reply key, the folders, the limits.
On POSIX the process then forks: the original stays behind as the sandbox's supervisor, the
reaper of every process the submission starts (see `_supervise`), and the child becomes the
worker, which confines itself (confine.py), installs the audit hook, imports the probes and,
last, the student's module.

Protocol: JSON lines, each reply prefixed by its HMAC-SHA256 tag and a space. The setup is
answered by {"id": 0, "ok": true, "landlock": ..., "socket_filter": ...}. Each request {"id": n, "probe": name,
"kwargs": {...}, "timeout": seconds} is answered by {"id": n, "ok": true, "value": ...} or
{"id": n, "ok": false, "error": ...}, each with the forced-block stats drained since the last
reply; the parent then sends {"id": n, "confirm": true}, answered by {"id": n, "confirmed": true}
once the trusted loop has control again, so a process that dies right after a reply fails that
call. Every message after the worker's start carries the audit events recorded since the
previous one; an event of tampering answers the awaited message at once, as a failed call,
before the code that caused it can go on (see `_channel`). The supervisor reports the worker's
end as {"exited": code}. The student's prints go to the log, never to the protocol.

Student code shares this interpreter, so everything the loop calls (the reply writer, the JSON
encoder and decoder, the signer, os.write, the probes' functions) is bound before the student's
module is imported, and the key lives only in the signer's closure.
"""

from __future__ import annotations

import _thread
import builtins
import faulthandler
import importlib
import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any

PROBES_MODULE = "probes"

Writer = Callable[[dict[str, Any]], None]


# -- trusted bindings -------------------------------------------------------------------------

def _writer(fd: int, sign: Callable[[bytes], str]) -> Writer:
    """A function that writes one signed reply line to `fd`, with every callee bound now."""
    from _json import encode_basestring_ascii, make_encoder

    write, join, encode_text = os.write, "".join, str.encode
    type_error, value_error = TypeError, ValueError

    def refuse(value: Any) -> Any:
        raise type_error(f"{type(value).__name__} is not plain data")

    def encode(message: dict[str, Any]) -> str:
        # A fresh encoder each time: its circular-reference markers must not outlive an error.
        encoder = make_encoder({}, refuse, encode_basestring_ascii, None, ":", ",", False, False, False)
        return join(encoder(message, 0))

    def reply(message: dict[str, Any]) -> None:
        try:
            text = encode(message)
        except (type_error, value_error, RecursionError) as error:
            text = encode({"id": message.get("id"), "ok": False, "error": {
                "type": "WrongResultType",
                "message": f"the result is not plain data (int, float, str, bool, list, dict): {error}",
                "traceback": "",
            }, "audit": message.get("audit", []), "tracer": message.get("tracer", [])})
        payload = encode_text(text, "utf-8")
        line = encode_text(sign(payload), "ascii") + b" " + payload + b"\n"
        while line:
            line = line[write(fd, line):]

    return reply


def _reader(stream: IO[str]) -> Callable[[], dict[str, Any] | None]:
    """A function that reads the next request (None at end of input), with the C scanner bound now."""
    readline = stream.readline
    scan = json.JSONDecoder().scan_once

    def read() -> dict[str, Any] | None:
        line = readline()
        return scan(line, 0)[0] if line else None

    return read


# -- error reports ----------------------------------------------------------------------------

def _display_name(module_file: str, trusted_dirs: tuple[str, ...], libraries: tuple[str, ...]) -> Callable[[str], str | None]:
    """How a frame's file is shown to the student: their module by its file name, the library
    relative to its folder, the harness and the import machinery not at all (None)."""
    module_name = os.path.basename(module_file)
    import_machinery = "importlib" + os.sep

    def display(filename: str) -> str | None:
        if filename == module_file:
            return module_name
        if filename.startswith("<frozen ") or filename.startswith(trusted_dirs):
            return None
        for library in libraries:
            if filename.startswith(library):
                relative = filename[len(library):]
                return None if relative.startswith(import_machinery) else relative
        return os.path.basename(filename)

    return display


def _describe_error(error: BaseException, display: Callable[[str], str | None]) -> dict[str, Any]:
    """The error as plain data, its traceback cut down to the frames the student should see,
    named without the grading machine's folders."""
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        shown = display(frame.filename)
        if shown is not None:
            frame.filename = shown
            frames.append(frame)
    text = "".join(traceback.format_list(frames))
    if isinstance(error, SyntaxError) and error.filename:
        error.filename = display(error.filename) or os.path.basename(error.filename)
        text += "".join(traceback.format_exception_only(type(error), error))
    return {"type": type(error).__name__, "message": str(error), "traceback": text}


# -- the supervisor ---------------------------------------------------------------------------

def _supervise(worker: int, control_fd: int, report: Writer, cgroup_procs: str | None) -> None:
    """Wait until the grader closes the control pipe (or dies) or the worker ends; then kill
    every descendant and reap it. As the subreaper, this process inherits every orphan, a
    setsid() daemon included, so killing its children until none is left kills them all.
    The emptied cgroup is removed here too, so none is left behind by a grader that died."""
    import select
    import signal

    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        code = _worker_exit_code(worker)
        if code is not None:
            report({"exited": code})
            break
        ready, _, _ = select.select([control_fd, wake_read], [], [])
        if control_fd in ready:
            break  # end of file: the grader closed the sandbox, or died
        os.read(wake_read, 512)
    _kill_descendants(worker)
    if cgroup_procs:
        try:
            os.rmdir(os.path.dirname(cgroup_procs))
        except OSError:
            pass  # not empty yet: the grader sweeps and removes it


def _worker_exit_code(worker: int) -> int | None:
    """Reap ended children without waiting; the worker's exit code once it has ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return -1
        if pid == 0:
            return None
        if pid == worker:
            return os.waitstatus_to_exitcode(status)


def _kill_descendants(worker: int) -> None:
    import signal

    from grader.harness.confine import own_children

    while True:
        children = own_children()
        for pid in [worker] if children is None else children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return  # no child left, and orphans of the killed ones became children first


# -- the worker -------------------------------------------------------------------------------

def _confine(setup: dict[str, Any]) -> dict[str, str]:
    """Cgroup, hard limits, privileges, Landlock, the socket filter, in that order; return the
    status of the last two."""
    from grader.harness import confine

    if setup.get("cgroup_procs"):
        confine.join_cgroup(setup["cgroup_procs"])
    uid = confine.unprivileged_ids()[0] if setup["privileges"] == "drop" else getattr(os, "getuid", lambda: 0)()
    confine.set_hard_limits(setup["limits"], confine.tasks_of_user(uid))
    confine.drop_privileges(setup["privileges"])
    grants = confine.child_grants([setup["runtime_dir"], setup["probes_dir"], setup["module_dir"]],
                                  setup["scratch_dir"], setup["allowed_ports"])
    return {"landlock": confine.apply_landlock(grants), "socket_filter": confine.apply_socket_filter()}


def _serve(setup: dict[str, Any], read: Callable[[], dict[str, Any] | None], reply: Writer) -> None:
    module_file = os.path.join(setup["module_dir"], setup["module"] + ".py")
    trusted_dirs = tuple(folder + os.sep for folder in (setup["runtime_dir"], setup["probes_dir"]))
    try:
        from grader.harness import audit
        from student_runtime import preempt

        display = _display_name(module_file, trusted_dirs, preempt.library_locations())
        confined = _confine(setup)
        sys.path[:0] = [setup["probes_dir"], setup["module_dir"]]
        if setup.get("start_method"):
            import multiprocessing

            multiprocessing.set_start_method(setup["start_method"], force=True)
        drain_blocks = preempt.drain_blocks
        probes = _import_probes()
        answer, record = _channel(reply)
        audit.install([setup["runtime_dir"], setup["probes_dir"]], record)
    except BaseException as error:  # noqa: BLE001 - the harness could not start: say why
        reply({"id": 0, "ok": False, "error": {"type": "HarnessError", "traceback": "",
                                               "message": f"{type(error).__name__}: {error}"}})
        return
    dump_later, cancel_dump = faulthandler.dump_traceback_later, faulthandler.cancel_dump_traceback_later
    # The probes as imported, and the error writer: student code may rebind the modules' names.
    probe_named, describe, log = dict(vars(probes)).get, _describe_error, sys.stderr
    try:
        module = importlib.import_module(setup["module"])
    except BaseException as error:  # noqa: BLE001 - a broken import is reported, not raised
        answer({"id": 0, "ok": False, "error": describe(error, display), "tracer": drain_blocks()})
        return
    answer({"id": 0, "ok": True, **confined, "tracer": drain_blocks()})
    while (request := read()) is not None:
        number = request["id"]
        if request.get("confirm"):
            answer({"id": number, "confirmed": True})
            continue
        dump_later(request["timeout"], file=log)
        try:
            probe = probe_named(request["probe"])
            if probe is None:
                raise LookupError(f"the probes have no function {request['probe']!r}")
            outcome = {"id": number, "ok": True, "value": probe(module, **request["kwargs"])}
        except BaseException as error:  # noqa: BLE001 - SystemExit from student code included
            outcome = {"id": number, "ok": False, "error": describe(error, display)}
        cancel_dump()
        answer({**outcome, "tracer": drain_blocks()})


def _channel(reply: Writer) -> tuple[Writer, Callable[[dict[str, str], bool], None]]:
    """(answer, record): the worker's way to the grader once its probes are loaded.

    answer(message) sends the message the grader awaits next (the setup's answer, then for each
    request its answer and its confirmation), with the audit events recorded since the previous
    one. record(event, at_once) is the audit hook's. An event to send at once (the code that
    caused it can now reach trusted state, this channel included, and empty it) answers the
    awaited message right away, as a failed call (or a bare confirmation), with every event so
    far; the loop's own answer to that message is then dropped. A thread that records never
    waits for the writer: the thread holding it sends what came meanwhile.
    """
    lock, length = _thread.allocate_lock(), len
    pending: list[dict[str, str]] = []
    state = {"next": 0, "urgent": None}  # the awaited message's place in the order; the evidence to send now

    def place(message: dict[str, Any]) -> int:
        number = message["id"]
        return 0 if number == 0 else 2 * number - ("confirmed" not in message)

    def send(message: dict[str, Any]) -> None:
        events = pending[:]
        del pending[:length(events)]
        reply({**message, "audit": events})
        state["next"] = place(message) + 1

    def failed_now(evidence: str) -> dict[str, Any]:
        number = state["next"]
        if number and number % 2 == 0:
            return {"id": number // 2, "confirmed": True}
        return {"id": (number + 1) // 2, "ok": False, "tracer": [], "error": {
            "type": "TamperingDetected", "traceback": "",
            "message": f"the submission reached into the grader's code ({evidence}); this call counts as failed"}}

    def send_urgent() -> None:
        while state["urgent"] is not None and lock.acquire(False):
            try:
                evidence, state["urgent"] = state["urgent"], None
                if evidence is not None:
                    send(failed_now(evidence))
            finally:
                lock.release()

    def answer(message: dict[str, Any]) -> None:
        with lock:
            if place(message) >= state["next"]:  # else it was answered at once already
                send(message)
        send_urgent()

    def record(event: dict[str, str], at_once: bool) -> None:
        pending.append(event)
        if at_once:
            if state["urgent"] is None:
                state["urgent"] = event["evidence"]
            send_urgent()

    return answer, record


def main() -> None:
    requests_fd, replies_fd = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # whatever student code prints lands in the log
    setup = json.loads(_setup_line(requests_fd))
    requests = os.fdopen(requests_fd, "r", encoding="utf-8")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [setup["runtime_dir"], *(entry for entry in sys.path if entry != here)]
    from grader.harness.watchers import signer

    reply = _writer(replies_fd, signer(bytes.fromhex(setup.pop("key"))))
    read = _reader(requests)
    control_fd = setup.get("control_fd")
    if control_fd is not None:
        from grader.harness.confine import become_subreaper

        become_subreaper()
        worker = os.fork()
        if worker:
            requests.close()
            _supervise(worker, control_fd, reply, setup.get("cgroup_procs"))
            os._exit(0)
        os.close(control_fd)
    _serve(setup, read, reply)


def _setup_line(fd: int) -> bytes:
    """The first line, read straight from the pipe: no stream buffer keeps the key around.
    The parent sends nothing more until the setup is answered."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            raise SystemExit("the grader closed the sandbox before its setup")
        line += chunk
    return line


def _import_probes() -> Any:
    """The probes module, run with a private copy of the builtins: a function looks its builtins
    (`len`, `Exception`, ...) up in the dict its module had when the function was made, so
    `builtins.len = ...` in student code, which no audit event reports, never reaches a probe."""
    spec = importlib.util.find_spec(PROBES_MODULE)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {PROBES_MODULE!r}")
    probes = importlib.util.module_from_spec(spec)
    probes.__builtins__ = dict(vars(builtins))
    sys.modules[PROBES_MODULE] = probes
    spec.loader.exec_module(probes)
    return probes


def _announce_worker() -> None:
    """In a pool worker started by spawn (or a forkserver, whose workers inherit it), before any
    task is unpickled: let the probes prepare (`probes.in_worker()`, if they define it), then
    install the audit hook, as the worker's fork would have inherited it.

    Such a worker has no channel to the grader, and student code runs in it beside the probes'
    functions, so an event of tampering ends it at once (`_end_on_tampering`): the call that
    used it fails, as the same act fails a call of the sandbox's own process."""
    probes = sys.modules.get(PROBES_MODULE) or _import_probes()
    hook = getattr(probes, "in_worker", None)
    if callable(hook):
        hook()
    from grader.harness import audit

    runtime_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    audit.install([runtime_dir, os.path.dirname(os.path.abspath(probes.__file__))], _end_on_tampering())


def _end_on_tampering() -> Callable[[dict[str, str], bool], None]:
    """The audit report of a worker: tampering is written to the sandbox's log and ends the
    process before the code that caused it goes on; what is only suspicious is let be."""
    write, exit_now, encode_text = os.write, os._exit, str.encode

    def report(event: dict[str, str], at_once: bool) -> None:
        if event["status"] == "tampered":
            write(2, encode_text(f"a worker process was stopped: the submission reached into the grader's code"
                                 f" ({event['evidence']})\n", "utf-8", "replace"))
            exit_now(70)  # EX_SOFTWARE

    return report


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__":
    _announce_worker()
