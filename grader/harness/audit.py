"""An audit hook that records what student code does to the grader's instrumentation.

Interface
---------
- `install(trusted_prefixes) -> drain` (the sandbox's child, before the student's module is
  imported): adds the hook with `sys.addaudithook` (it cannot be removed) and returns
  `drain() -> list[dict]`, the events since the last drain as plain data, each
  {"status": "tampered" | "suspicious", "evidence": "sys.settrace() called from counter.py:12"}.
  `trusted_prefixes` are the folders of trusted code (the child script's, the probes'); the
  standard library, the installed packages, frozen modules and the grader package are trusted as well. None of them
  may hold the student's module.
- `findings_from(events) -> list[Finding]` (the judging process).

An event counts against the student only when a student frame caused it: the frame running when
it fired, or the first frame beyond a thin library wrapper that only hands the caller what it
asked for (`inspect.currentframe()`, `traceback.walk_stack()`, `threading.settrace()`,
`ctypes`, `importlib.import_module()`). What the library does on its own account (traceback
formatting, logging, the threading bootstrap, imports) is not the student's.

Classification: switching off or reaching into the instrumentation (tracing and profiling
functions, frames, gc, code and function objects built or swapped, `ctypes`, `sys.monitoring`,
another audit hook, the harness's private bindings, writing into trusted folders, re-importing a
module the harness had already bound) is `tampered`; running code compiled at run time (`exec`,
`compile`) is `suspicious`, unless it is compiled under a trusted file name (`tampered`).
"""

from __future__ import annotations

import _thread
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any

from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding
from grader.harness.preempt import HARNESS_FOLDER, library_locations, trusted_file_test

# Each distinct piece of evidence is recorded once; a submission calling sys._getframe() in a
# loop must not flood the replies.
_MAX_EVENTS = 200

_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_PRIVATE_BINDINGS = frozenset({"__defaults__", "__kwdefaults__"})
_DIRECT_TAMPERING = {
    "sys.settrace": "sys.settrace() called",
    "sys.setprofile": "sys.setprofile() called",
    "sys._getframe": "a frame taken with sys._getframe()",
    "sys._current_frames": "the frames of all threads taken with sys._current_frames()",
    "gc.get_objects": "gc.get_objects() called",
    "gc.get_referrers": "gc.get_referrers() called",
    "gc.get_referents": "gc.get_referents() called",
    "code.__new__": "a code object built (code.replace() or CodeType())",
    "function.__new__": "a function built from a code object (FunctionType())",
    "marshal.loads": "code loaded with marshal.loads()",
    "marshal.load": "code loaded with marshal.load()",
    "sys.addaudithook": "an audit hook added",
}
_WATCHED = frozenset(_DIRECT_TAMPERING) | {
    "object.__getattr__", "object.__setattr__", "object.__delattr__", "compile", "exec", "import", "open",
}
_READ_WATCHED = _FRAME_ATTRIBUTES | _PRIVATE_BINDINGS | {"__code__"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _opens_for_writing(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _thin_wrappers() -> dict[str, tuple[frozenset[int], tuple[str, ...]]]:
    """Per kind of event, the library code that only passes the student's request on: code ids
    and file prefixes whose frames are looked through to find who asked."""
    import importlib
    import inspect

    def codes(*functions: Any) -> frozenset[int]:
        return frozenset(id(function.__code__) for function in functions if hasattr(function, "__code__"))

    threading_module = sys.modules["threading"]
    tracing = [getattr(threading_module, name, None) for name in
               ("settrace", "setprofile", "settrace_all_threads", "setprofile_all_threads")]
    frames = codes(traceback.walk_stack, traceback.walk_tb)
    inspect_file = (inspect.__file__,)
    ctypes_folder = (os.path.join(os.path.dirname(os.__file__), "ctypes") + os.sep,)
    importlib_files = ("<frozen importlib.", os.path.dirname(importlib.__file__) + os.sep)
    return {
        "frames": (frames, inspect_file),
        "tracing": (codes(*[function for function in tracing if function is not None]), ()),
        "ctypes": (frozenset(), ctypes_folder),
        "import": (frozenset(), importlib_files),
        "direct": (frozenset(), ()),
    }


def install(trusted_prefixes: Iterable[str]) -> Callable[[], list[dict[str, str]]]:
    """Add the audit hook; return the function that drains its events (see the module doc)."""
    library = library_locations()
    given = [*trusted_prefixes, HARNESS_FOLDER]
    trusted_folders = tuple(sorted(set(library) | {prefix.rstrip(os.sep) + os.sep for prefix in given}))
    is_trusted_file = trusted_file_test(trusted_folders)
    thin = _thin_wrappers()
    loaded_before = frozenset(sys.modules)
    bootstrap_codes = frozenset(id(getattr(sys.modules["threading"].Thread, name).__code__)
                                for name in ("_bootstrap_inner", "_bootstrap"))
    events: list[dict[str, str]] = []
    seen: set[str] = set()
    busy: set[int] = set()
    trust: dict[int, tuple[Any, bool]] = {}

    def is_trusted_code(code: Any) -> bool:
        entry = trust.get(id(code))
        if entry is None or entry[0] is not code:
            entry = trust[id(code)] = (code, is_trusted_file(code.co_filename))
        return entry[1]

    def culprit(frame: Any, wrappers: tuple[frozenset[int], tuple[str, ...]]) -> Any:
        """The student frame that caused an event raised in `frame`, or None."""
        codes, files = wrappers
        while frame is not None and (id(frame.f_code) in codes or frame.f_code.co_filename.startswith(files or ("\0",))):
            frame = frame.f_back
        if frame is None or is_trusted_code(frame.f_code):
            return None
        return frame

    def record(status: str, what: str, frame: Any) -> None:
        where = "" if frame is None else f" from {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
        evidence = what + where
        if evidence not in seen and len(events) < _MAX_EVENTS:
            seen.add(evidence)
            events.append({"status": status, "evidence": evidence})

    def trusted_function(obj: Any) -> bool:
        code = getattr(obj, "__code__", None)
        return isinstance(code, types.CodeType) and is_trusted_code(code)

    def trusted_path(path: Any) -> bool:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return isinstance(path, str) and os.path.isabs(path) and is_trusted_file(path)

    def judge(event: str, args: tuple, frame: Any) -> None:
        if event in _DIRECT_TAMPERING:
            wrappers = thin["tracing"] if event in ("sys.settrace", "sys.setprofile") else (
                thin["frames"] if event in ("sys._getframe", "sys._current_frames") else thin["direct"])
            if event in ("sys.settrace", "sys.setprofile") and id(frame.f_code) in bootstrap_codes:
                record(TAMPERED, f"{event}() installed in every new thread (threading.settrace/setprofile)", None)
                return
            student = culprit(frame, wrappers)
            if student is not None:
                record(TAMPERED, _DIRECT_TAMPERING[event], student)
        elif event.startswith("ctypes."):
            student = culprit(frame, thin["ctypes"])
            if student is not None:
                record(TAMPERED, f"ctypes used ({event})", student)
        elif event == "object.__getattr__":
            name = args[1]
            if name in _FRAME_ATTRIBUTES:
                student = culprit(frame, thin["frames"])
                if student is not None:
                    record(TAMPERED, f"a frame taken through {name}", student)
            elif name in _PRIVATE_BINDINGS and trusted_function(args[0]):
                student = culprit(frame, thin["frames"])
                if student is not None:
                    record(TAMPERED, f"{name} of the grader's {getattr(args[0], '__qualname__', '?')} read", student)
            elif name == "__code__":
                student = culprit(frame, thin["direct"])
                if student is not None:
                    record(SUSPICIOUS, "__code__ of a function read", student)
        elif event in ("object.__setattr__", "object.__delattr__"):
            name, target = args[1], args[0]
            if name == "__code__" or (name in _PRIVATE_BINDINGS and trusted_function(target)):
                student = culprit(frame, thin["direct"])
                if student is not None:
                    record(TAMPERED, f"{name} of {getattr(target, '__qualname__', '?')} replaced", student)
            elif name in _PRIVATE_BINDINGS:
                student = culprit(frame, thin["direct"])
                if student is not None:
                    record(SUSPICIOUS, f"{name} of {getattr(target, '__qualname__', '?')} replaced", student)
        elif event == "compile":
            student = culprit(frame, thin["direct"])
            if student is not None:
                filename = args[1]
                if trusted_path(filename) or (isinstance(filename, str) and filename.startswith("<frozen")):
                    record(TAMPERED, f"code compiled under the file name {filename}", student)
                else:
                    record(SUSPICIOUS, "code compiled at run time (exec/eval/compile)", student)
        elif event == "exec":
            student = culprit(frame, thin["direct"])
            if student is not None:
                filename = getattr(args[0], "co_filename", None)
                if trusted_path(filename) or (isinstance(filename, str) and filename.startswith("<frozen")):
                    record(TAMPERED, f"code run under the file name {filename}", student)
                else:
                    record(SUSPICIOUS, "code run with exec()/eval()", student)
        elif event == "import":
            module = args[0]
            if module in loaded_before:
                student = culprit(frame, thin["import"])
                if student is not None:
                    record(TAMPERED, f"module {module} imported again after it was removed from sys.modules", student)
            elif module == "ctypes":
                student = culprit(frame, thin["import"])
                if student is not None:
                    record(SUSPICIOUS, "ctypes imported", student)
        elif event == "open":
            if trusted_path(args[0]):
                path = args[0]
                walker = frame
                while walker is not None:  # an import writing its cached bytecode is not the student
                    if walker.f_code.co_filename.startswith(thin["import"][1]):
                        return
                    walker = walker.f_back
                student = frame
                while student is not None and is_trusted_code(student.f_code):
                    student = student.f_back
                if student is not None:
                    record(TAMPERED, f"a file of the grader or of Python opened for writing ({path})", student)

    def hook(event: str, args: tuple, _watched: frozenset[str] = _WATCHED, _busy: set[int] = busy,
             _get_ident: Callable[[], int] = _thread.get_ident,
             _getframe: Callable[[int], Any] = sys._getframe) -> None:
        if event not in _watched and not event.startswith("ctypes."):
            return
        if event == "object.__getattr__" and args[1] not in _READ_WATCHED:
            return  # f_code and the like: reading them needs a frame, whose taking is audited
        if event == "open" and not _opens_for_writing(args[1], args[2]):
            return
        ident = _get_ident()
        if ident in _busy:
            return  # an event raised by this hook itself (its own sys._getframe, f_code reads)
        _busy.add(ident)
        try:
            judge(event, args, _getframe(1))
        except Exception as error:  # noqa: BLE001 - a hook that raises would break the audited call
            record(SUSPICIOUS, f"the audit hook could not judge {event} ({type(error).__name__})", None)
        finally:
            _busy.discard(ident)

    sys.addaudithook(hook)
    _witness_monitoring(record, culprit, thin["direct"], _thread.get_ident, busy, sys._getframe)

    def drain(_events: list[dict[str, str]] = events) -> list[dict[str, str]]:
        drained = list(_events)
        del _events[:len(drained)]
        return drained

    return drain


def _witness_monitoring(record: Callable[..., None], culprit: Callable[..., Any], wrappers: Any,
                        get_ident: Callable[[], int], busy: set[int], getframe: Callable[[int], Any]) -> None:
    """sys.monitoring (3.12+) raises no audit events: put a recording stand-in in its place."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return
    witness = types.ModuleType(monitoring.__name__, monitoring.__doc__)
    for name in dir(monitoring):
        value = getattr(monitoring, name)
        if callable(value) and not isinstance(value, type) and not name.startswith("__"):
            value = _recording(name, value, record, culprit, wrappers, get_ident, busy, getframe)
        setattr(witness, name, value)
    sys.monitoring = witness


def _recording(name: str, function: Callable[..., Any], record: Callable[..., None], culprit: Callable[..., Any],
               wrappers: Any, get_ident: Callable[[], int], busy: set[int],
               getframe: Callable[[int], Any]) -> Callable[..., Any]:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        ident = get_ident()
        if ident not in busy:
            busy.add(ident)
            try:
                student = culprit(getframe(1), wrappers)
                if student is not None:
                    record(TAMPERED, f"sys.monitoring.{name}() called", student)
            finally:
                busy.discard(ident)
        return function(*args, **kwargs)

    recorded.__name__ = recorded.__qualname__ = name
    recorded.__doc__ = function.__doc__
    return recorded


def findings_from(events: Iterable[Any]) -> list[Finding]:
    """The child's audit events as findings; an event that is not what the hook writes is itself
    evidence that the reply was tampered with."""
    findings: list[Finding] = []
    for event in events:
        if isinstance(event, dict) and event.get("status") in (SUSPICIOUS, TAMPERED) \
                and isinstance(event.get("evidence"), str):
            findings.append(Finding(event["status"], event["evidence"]))
        else:
            findings.append(Finding(TAMPERED, f"the audit record {event!r:.80} is not what the grader writes"))
    return list(dict.fromkeys(findings))
