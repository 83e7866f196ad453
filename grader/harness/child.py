"""The child side of the sandbox: imports one student module and runs trusted probes beside it.

Started by `sandbox.Sandbox` as `python -I child.py`. It speaks JSON lines over private copies
of stdin and stdout; the student's own prints go to the log instead, so they cannot forge a
reply. Every reply holds plain JSON data only: no object made by student code ever reaches
the judging process.

Protocol: the first line is the setup, answered by {"ok": true} once the student's module
and the probes are imported. Each further line is {"probe": name, "kwargs": {...},
"timeout": seconds}, answered by {"ok": true, "value": ...} or {"ok": false, "error": ...}.
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import multiprocessing
import os
import sys
import traceback
from pathlib import Path
from typing import IO, Any

PROBES_MODULE = "probes"


def _take_protocol_streams() -> tuple[IO[str], IO[str]]:
    """Keep private copies of stdin/stdout and point the real ones away from the parent."""
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # whatever student code prints lands in the log
    return proto_in, proto_out


def _apply_limits(limits: dict[str, int]) -> None:
    try:
        import resource
    except ImportError:  # Windows: the parent's wall-clock timeout is the only limit
        return
    names = {
        "memory_bytes": "RLIMIT_AS",
        "cpu_seconds": "RLIMIT_CPU",
        "file_bytes": "RLIMIT_FSIZE",
        "processes": "RLIMIT_NPROC",
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, name in names.items():
        limit = getattr(resource, name, None)
        if limit is None or key not in limits:
            continue
        soft, hard = resource.getrlimit(limit)
        wanted = limits[key]
        if key == "processes":  # the limit counts every task of this user, not ours alone
            running = _tasks_of_this_user()
            if running is None:
                continue
            wanted += running
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        try:
            resource.setrlimit(limit, (wanted, hard))
        except (ValueError, OSError):  # some platforms (macOS) refuse a few of them
            pass


def _tasks_of_this_user() -> int | None:
    """Threads and processes that already count towards RLIMIT_NPROC (Linux; None elsewhere)."""
    uid, count = os.getuid(), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count


def _describe_error(error: BaseException, trusted_dirs: list[str]) -> dict[str, Any]:
    """The error as plain data, its traceback cut down to the student's own frames."""
    frames = traceback.extract_tb(error.__traceback__)
    student_frames = [f for f in frames if not any(f.filename.startswith(d) for d in trusted_dirs)]
    return {
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_list(student_frames)),
    }


def _reply(stream: IO[str], message: dict[str, Any]) -> None:
    try:
        line = json.dumps(message, allow_nan=False)
    except (TypeError, ValueError) as error:
        line = json.dumps({"ok": False, "error": {
            "type": "WrongResultType",
            "message": f"the result is not plain data (int, float, str, bool, list, dict): {error}",
            "traceback": "",
        }})
    stream.write(line + "\n")
    stream.flush()


def _setup(request: dict[str, Any]) -> tuple[Any, Any]:
    _apply_limits(request["limits"])
    # Trusted folders first, so a submission cannot shadow the harness or the probes with
    # files of its own; and the probes are imported before the student's module can run.
    sys.path[:0] = [request["kit_root"], request["probes_dir"], request["module_dir"]]
    if request.get("start_method"):
        multiprocessing.set_start_method(request["start_method"], force=True)
    probes = importlib.import_module(PROBES_MODULE)
    module = importlib.import_module(request["module"])
    return module, probes


def main() -> None:
    proto_in, proto_out = _take_protocol_streams()
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [entry for entry in sys.path if entry != here]  # Python 3.10 adds it despite -I
    setup = json.loads(proto_in.readline())
    trusted_dirs = [here, str(Path(setup["probes_dir"]).resolve())]  # frames students need not see
    try:
        module, probes = _setup(setup)
    except BaseException as error:  # noqa: BLE001 - a broken import is reported, not raised
        _reply(proto_out, {"ok": False, "error": _describe_error(error, trusted_dirs)})
        return
    _reply(proto_out, {"ok": True})
    for line in proto_in:
        request = json.loads(line)
        faulthandler.dump_traceback_later(request["timeout"], file=sys.stderr)
        try:
            value = getattr(probes, request["probe"])(module, **request["kwargs"])
            answer = {"ok": True, "value": value}
        except BaseException as error:  # noqa: BLE001 - SystemExit from student code included
            answer = {"ok": False, "error": _describe_error(error, trusted_dirs)}
        faulthandler.cancel_dump_traceback_later()
        _reply(proto_out, answer)


if __name__ == "__main__":
    main()
