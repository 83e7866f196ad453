"""An audit hook that records what student code does to the grader's instrumentation.

Interface
---------
- `install(trusted_prefixes, report)` (the sandbox's child, before the student's module is
  imported): adds the hook with `sys.addaudithook` (it cannot be removed) and puts the stand-ins
  below in place. The hook hands each new event to `report(event, at_once)` in the thread that
  caused it, as plain data: {"status": "tampered" | "suspicious", "evidence": "sys.settrace()
  called from counter.py:12"}; it keeps no list of its own that student code could empty.
  `at_once` marks the events that give the code what it needs to reach trusted state or to get
  around the harness's replacements (frames, gc, the harness's private bindings, tracing, another
  audit hook, ctypes, sys.monitoring, a fresh copy of a loaded module): they must leave the
  process before that code goes on.
  `trusted_prefixes` are the folders of trusted code (the child script's, the probes'); the
  standard library, the installed packages, frozen modules and the grader and runtime packages are trusted
  as well. None of them may hold the student's module.
- `findings_from(events) -> list[Finding]` (the judging process).

An event counts against the student only when a student frame caused it: the frame running when
it fired, or the first frame beyond a thin library wrapper that only hands the caller what it
asked for (`inspect.currentframe()`, `traceback.walk_stack()`, `signal.signal()`, `ctypes`,
`importlib.import_module()`). Tracing and profiling are the student's whenever library code
(`threading.settrace()`, `bdb`, `profile`) starts them on a student frame's behalf. What the
library does on its own account (traceback formatting, logging, the threading bootstrap,
imports) is not the student's.

Classification: switching off or reaching into the instrumentation (tracing and profiling
functions, frames, gc, code and function objects built or swapped, `ctypes`, `sys.monitoring`,
another audit hook, the harness's private bindings, writing into trusted folders, re-importing a
module the harness had already bound, or making a second copy of one) is `tampered`; running
code compiled at run time (`exec`, `compile`) is `suspicious`, unless it is compiled under a
trusted file name (`tampered`); so is setting a signal handler.

Student code shares the interpreter and can replace this module's globals and the builtins, so
everything the hook runs takes what it uses as arguments bound at install time (or when this
module was imported), never from a global at the time of the event.

Stand-ins. A few functions raise no audit event although they hand student code what the hook
guards: `sys.monitoring` (3.12+); `signal.signal`, whose handler Python calls with the frame the
main thread was running, a trusted frame whose locals no audited read guards; and
`_imp.create_builtin`, which makes a fresh copy of a built-in module, one without the harness's
replacements. Each is replaced by a stand-in that holds nothing of the grader's: it raises a
private audit event, and the hook, which nothing but the interpreter references, records the
call and makes it with the original. A signal handler is then called without a frame (None,
which the documentation allows), and a fresh copy of a loaded built-in module is the loaded one.
"""

from __future__ import annotations

import _imp
import _signal
import _thread
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any

from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding
from student_runtime.preempt import HARNESS_FOLDERS, as_prefixes, library_locations, trusted_file_test

# Each distinct piece of evidence is recorded once, and at most this many of each status: a
# submission calling sys._getframe() in a loop must not flood the replies, nor can a flood of
# suspicious events crowd out a tampered one.
_MAX_EVENTS = 200
# The private event of a stand-in: (name, args, kwargs, answer), see the module doc.
_WITNESS_EVENT = "grader.harness.audit.witness"

_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_PRIVATE_BINDINGS = frozenset({"__defaults__", "__kwdefaults__"})
_DIRECT_TAMPERING = types.MappingProxyType({
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
})
_TRACING_EVENTS = frozenset({"sys.settrace", "sys.setprofile"})
# The direct events that hand student code frames or every object (reported at once).
_REACHING_IN = frozenset({"sys._getframe", "sys._current_frames", "gc.get_objects", "gc.get_referrers",
                          "gc.get_referents", "sys.addaudithook"})
_FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames"})
_WATCHED = frozenset(_DIRECT_TAMPERING) | {
    "object.__getattr__", "object.__setattr__", "object.__delattr__", "compile", "exec", "import", "open",
    _WITNESS_EVENT,
}
_READ_WATCHED = _FRAME_ATTRIBUTES | _PRIVATE_BINDINGS | {"__code__"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_FILESYSTEM_ENCODING = sys.getfilesystemencoding()

Frame = Any
Wrappers = tuple[frozenset[int], tuple[str, ...]]  # code ids and file prefixes looked through
Record = Callable[..., None]  # record(status, what, frame, at_once=False)
Culprit = Callable[[Frame, Wrappers], Frame]
# A stand-in's witness: given the call's args, kwargs and caller (None for a call the hook made
# itself), it records what the call reveals and returns the function that makes the call.
Witness = Callable[[tuple, dict, Frame], Callable[[], Any]]


def install(trusted_prefixes: Iterable[str], report: Callable[[dict[str, str], bool], None]) -> None:
    """Add the audit hook, which hands every new event to `report`, and put the stand-ins in
    place (see the module doc)."""
    harness = as_prefixes([*trusted_prefixes, *HARNESS_FOLDERS])
    library = library_locations()
    thin = _thin_wrappers()
    is_trusted_file = trusted_file_test(tuple(sorted({*library, *harness})))
    is_trusted_code = _by_code(is_trusted_file)
    record, culprit = _recorder(report, is_trusted_code)
    requester = _requester(harness, is_trusted_code)
    bootstrap = frozenset(id(getattr(sys.modules["threading"].Thread, name).__code__)
                          for name in ("_bootstrap_inner", "_bootstrap"))
    judge = _judge(record, culprit, requester, is_trusted_code, is_trusted_file, thin, frozenset(sys.modules),
                   bootstrap)
    witnesses = {**_signal_witnesses(record, culprit, thin["signal"]),
                 **_monitoring_witnesses(record, culprit, thin["direct"]),
                 "create_builtin": _builtin_copy_witness(record, culprit, thin["import"], sys.modules)}
    sys.addaudithook(_hook(judge, record, witnesses))
    _put_stand_ins(witnesses)
    freeze_classes(module for name, module in list(sys.modules.items())
                   if name in _FROZEN_LIBRARY or _compiled_or_trusted(module, harness))


# Py_TPFLAGS_IMMUTABLETYPE (3.10+): type.__setattr__ and __class__ assignment refuse such a type.
_IMMUTABLE_TYPE = 1 << 8
# The pure-Python library modules whose classes trusted code calls while a probe runs (their
# compiled halves, _thread, _random, _socket, _json, _queue, are frozen as compiled modules).
# Not every module: some write to their own classes lazily (weakref.finalize, multiprocessing's
# managers), which a frozen class would refuse.
_FROZEN_LIBRARY = frozenset({
    "threading", "queue", "random", "socket", "selectors", "json.encoder", "json.decoder", "hmac", "hashlib",
    "contextlib", "functools", "pathlib", "pathlib._local", "pathlib._abc", "tempfile",
    "concurrent.futures._base", "concurrent.futures.thread", "concurrent.futures.process",
    "multiprocessing.connection", "multiprocessing.context", "multiprocessing.pool", "multiprocessing.process",
    "multiprocessing.queues", "multiprocessing.synchronize",
})


def _compiled_or_trusted(module: Any, harness: tuple[str, ...]) -> bool:
    """A built-in or extension module (C classes never write to themselves), or one of the
    harness's own (the grader, the runtime, the probes)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return getattr(getattr(module, "__spec__", None), "origin", None) == "built-in"
    return path.endswith(tuple(EXTENSION_SUFFIXES)) or path.startswith(harness)


def freeze_classes(modules: Iterable[Any]) -> int:
    """Make every plain class of `modules` (and its bases) immutable, as CPython's built-in
    types are; return how many were frozen.

    Trusted code binds the functions it calls, but a method is still looked up on its class at
    each call: `random.Random.random = ...` or `threading.Condition.wait_for = ...` would change
    the tracer's coin or the probes' waits, and CPython raises no audit event for writes to a
    class. Frozen, such a write raises TypeError, as it would on `int`. Classes with a metaclass
    of their own (ABCs, enums, protocols) are left alone: their metaclasses write to them lazily.
    The student's own classes, subclasses of frozen ones included, stay as Python makes them.
    """
    import ctypes

    classes: dict[int, type] = {}
    for module in list(modules):
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, type):
                for base in value.__mro__:
                    if type(base) is type and base.__flags__ & _IMMUTABLE_TYPE == 0:
                        classes[id(base)] = base
    offset = _flags_offset()
    if offset is None:
        return 0
    for address, cls in classes.items():
        flags = ctypes.c_ulong.from_address(address + offset)
        flags.value |= _IMMUTABLE_TYPE
    return len(classes)


def _flags_offset() -> int | None:
    """Where tp_flags sits in a type object: the one word that holds `__flags__` for several
    types (its place differs between builds, not between types)."""
    import ctypes

    class Sample:
        pass

    samples = (Sample, type, int, Exception)
    for offset in range(0, 64 * ctypes.sizeof(ctypes.c_void_p), ctypes.sizeof(ctypes.c_ulong)):
        if all(ctypes.c_ulong.from_address(id(sample) + offset).value == sample.__flags__ for sample in samples):
            return offset
    return None


def _opens_for_writing(mode: Any, flags: Any, *, isinstance: Callable[..., bool] = isinstance,
                       any: Callable[..., bool] = any, bool: type = bool, str: type = str, int: type = int,
                       _WRITE_FLAGS: int = _WRITE_FLAGS) -> bool:
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _thin_wrappers() -> dict[str, Wrappers]:
    """Per kind of event, the library code that only passes the student's request on: code ids
    and file prefixes whose frames are looked through to find who asked."""
    import importlib
    import inspect
    import signal

    def codes(*functions: Any) -> frozenset[int]:
        return frozenset(id(function.__code__) for function in functions if hasattr(function, "__code__"))

    frames = codes(traceback.walk_stack, traceback.walk_tb)
    inspect_file = (inspect.__file__,)
    ctypes_folder = (os.path.join(os.path.dirname(os.__file__), "ctypes") + os.sep,)
    importlib_files = ("<frozen importlib.", os.path.dirname(importlib.__file__) + os.sep)
    return {
        "frames": (frames, inspect_file),
        "ctypes": (frozenset(), ctypes_folder),
        "import": (frozenset(), importlib_files),
        "signal": (frozenset(), (signal.__file__,)),
        "direct": (frozenset(), ()),
    }


def _by_code(is_trusted_file: Callable[[str], bool], *, id: Callable[[Any], int] = id) -> Callable[[Any], bool]:
    """The test of a code object's file, remembered per code object: events fire often, under a
    tracer too."""
    decisions: dict[int, tuple[Any, bool]] = {}

    def test(code: Any) -> bool:
        entry = decisions.get(id(code))
        if entry is None or entry[0] is not code:
            entry = decisions[id(code)] = (code, is_trusted_file(code.co_filename))
        return entry[1]

    return test


def _recorder(report: Callable[[dict[str, str], bool], None], is_trusted_code: Callable[[Any], bool], *,
              id: Callable[[Any], int] = id, _MAX_EVENTS: int = _MAX_EVENTS, SUSPICIOUS: str = SUSPICIOUS,
              TAMPERED: str = TAMPERED, separators: tuple[str, ...] = tuple(filter(None, (os.sep, os.altsep))),
              ) -> tuple[Record, Culprit]:
    """record(status, what, frame, at_once=False): hand a new event to `report`, naming the
    frame's file and line; culprit(frame, wrappers): the student frame that caused an event
    raised in `frame`, looking through the thin wrappers, or None."""
    seen: set[str] = set()
    counts = {SUSPICIOUS: 0, TAMPERED: 0}

    def culprit(frame: Frame, wrappers: Wrappers) -> Frame:
        codes, files = wrappers
        while frame is not None and (id(frame.f_code) in codes or frame.f_code.co_filename.startswith(files or ("\0",))):
            frame = frame.f_back
        if frame is None or is_trusted_code(frame.f_code):
            return None
        return frame

    def record(status: str, what: str, frame: Frame, at_once: bool = False) -> None:
        where = ""
        if frame is not None:
            name = frame.f_code.co_filename
            for separator in separators:
                name = name.rpartition(separator)[2]
            where = f" from {name}:{frame.f_lineno}"
        evidence = what + where
        if evidence not in seen and counts[status] < _MAX_EVENTS:
            seen.add(evidence)
            counts[status] += 1
            report({"status": status, "evidence": evidence}, at_once)

    return record, culprit


def _requester(harness: tuple[str, ...], is_trusted_code: Callable[[Any], bool]) -> Callable[[Frame], Frame]:
    """requester(frame): the student frame on whose behalf library code runs in `frame` (the
    first frame beyond the library frames), or None when harness code (under the `harness`
    folders) asked or none did. Quick, and no system call: on Python 3.11 and older a thread's
    sys.settrace() fails while another's is being audited."""

    def requester(frame: Frame) -> Frame:
        while frame is not None and is_trusted_code(frame.f_code):
            if frame.f_code.co_filename.startswith(harness):
                return None  # the harness's own doing
            frame = frame.f_back
        return frame

    return requester


def _judge(record: Record, culprit: Culprit, requester: Callable[[Frame], Frame], is_trusted_code: Callable[[Any], bool],
           is_trusted_file: Callable[[str], bool], thin: dict[str, Wrappers], loaded_before: frozenset[str],
           bootstrap_codes: frozenset[int], *, id: Callable[[Any], int] = id, getattr: Callable[..., Any] = getattr,
           isinstance: Callable[..., bool] = isinstance, str: type = str, bytes: type = bytes,
           CodeType: type = types.CodeType, isabs: Callable[[str], bool] = os.path.isabs,
           filesystem_encoding: str = _FILESYSTEM_ENCODING,
           _DIRECT_TAMPERING: Any = _DIRECT_TAMPERING, _TRACING_EVENTS: frozenset[str] = _TRACING_EVENTS,
           _FRAME_EVENTS: frozenset[str] = _FRAME_EVENTS, _REACHING_IN: frozenset[str] = _REACHING_IN,
           _FRAME_ATTRIBUTES: frozenset[str] = _FRAME_ATTRIBUTES,
           _PRIVATE_BINDINGS: frozenset[str] = _PRIVATE_BINDINGS, SUSPICIOUS: str = SUSPICIOUS,
           TAMPERED: str = TAMPERED) -> Callable[[str, tuple, Frame], None]:
    """judge(event, args, frame): record what a watched event, raised in `frame`, reveals."""

    def trusted_function(obj: Any) -> bool:
        code = getattr(obj, "__code__", None)
        return isinstance(code, CodeType) and is_trusted_code(code)

    def trusted_path(path: Any) -> bool:
        if isinstance(path, bytes):
            path = path.decode(filesystem_encoding, "surrogateescape")
        return isinstance(path, str) and isabs(path) and is_trusted_file(path)

    def compiled_as_trusted(filename: Any) -> bool:
        return trusted_path(filename) or (isinstance(filename, str) and filename.startswith("<frozen"))

    def judge(event: str, args: tuple, frame: Frame) -> None:
        if frame is None:  # a thread started on a C function; or C code printing an unraisable error
            if event in _DIRECT_TAMPERING:
                record(TAMPERED, f"{_DIRECT_TAMPERING[event]} (by a thread started on it)", None,
                       event in _TRACING_EVENTS or event in _REACHING_IN)
        elif event in _TRACING_EVENTS:
            if id(frame.f_code) in bootstrap_codes:
                record(TAMPERED, f"{event}() installed in every new thread (threading.settrace/setprofile)", None, True)
                return
            student = requester(frame)
            if student is not None:
                record(TAMPERED, _DIRECT_TAMPERING[event], student, True)
        elif event in _DIRECT_TAMPERING:
            student = culprit(frame, thin["frames"] if event in _FRAME_EVENTS else thin["direct"])
            if student is not None:
                record(TAMPERED, _DIRECT_TAMPERING[event], student, event in _REACHING_IN)
        elif event.startswith("ctypes."):
            student = culprit(frame, thin["ctypes"])
            if student is not None:
                record(TAMPERED, f"ctypes used ({event})", student, True)
        elif event == "object.__getattr__":
            name = args[1]
            if name in _FRAME_ATTRIBUTES:
                student = culprit(frame, thin["frames"])
                if student is not None:
                    record(TAMPERED, f"a frame taken through {name}", student, True)
            elif name in _PRIVATE_BINDINGS and trusted_function(args[0]):
                student = culprit(frame, thin["frames"])
                if student is not None:
                    record(TAMPERED, f"{name} of the grader's {getattr(args[0], '__qualname__', '?')} read", student,
                           True)
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
                if compiled_as_trusted(args[1]):
                    record(TAMPERED, f"code compiled under the file name {args[1]}", student)
                else:
                    record(SUSPICIOUS, "code compiled at run time (exec/eval/compile)", student)
        elif event == "exec":
            student = culprit(frame, thin["direct"])
            if student is not None:
                filename = getattr(args[0], "co_filename", None)
                if compiled_as_trusted(filename):
                    record(TAMPERED, f"code run under the file name {filename}", student)
                else:
                    record(SUSPICIOUS, "code run with exec()/eval()", student)
        elif event == "import":
            module = args[0]
            if module in loaded_before:
                student = culprit(frame, thin["import"])
                if student is not None:
                    record(TAMPERED, f"module {module} imported again after it was removed from sys.modules", student,
                           True)
            elif module == "ctypes":
                student = culprit(frame, thin["import"])
                if student is not None:
                    record(SUSPICIOUS, "ctypes imported", student)
        elif event == "open" and trusted_path(args[0]):
            walker = frame
            while walker is not None:  # an import writing its cached bytecode is not the student
                if walker.f_code.co_filename.startswith(thin["import"][1]):
                    return
                walker = walker.f_back
            student = frame
            while student is not None and is_trusted_code(student.f_code):
                student = student.f_back
            if student is not None:
                record(TAMPERED, f"a file of the grader or of Python opened for writing ({args[0]})", student)

    return judge


def _hook(judge: Callable[[str, tuple, Frame], None], record: Record, witnesses: dict[str, Witness], *,
          type: type = type, Exception: type = Exception, ValueError: type = ValueError,
          _WATCHED: frozenset[str] = _WATCHED, _WITNESS_EVENT: str = _WITNESS_EVENT,
          _READ_WATCHED: frozenset[str] = _READ_WATCHED,
          _opens_for_writing: Callable[[Any, Any], bool] = _opens_for_writing, SUSPICIOUS: str = SUSPICIOUS,
          ) -> Callable[[str, tuple], None]:
    """The audit hook itself; `judge` and the stand-ins' witnesses do the work."""
    busy: set[int] = set()  # threads running the hook: the events it raises itself are not judged

    def witnessed(witness: Witness, args: tuple, kwargs: dict, get_ident: Callable[[], int],
                  getframe: Callable[[int], Frame], BaseException: type = BaseException) -> tuple[bool, Any]:
        """A stand-in's call through its witness: (True, result) or (False, the error). The call
        itself runs outside `busy`: it may run student code (a handler's, a spec's methods)."""
        ident = get_ident()
        try:
            if ident in busy:
                call = witness(args, kwargs, None)
            else:
                busy.add(ident)
                try:
                    call = witness(args, kwargs, getframe(3))  # 0 this, 1 the hook, 2 the stand-in
                finally:
                    busy.discard(ident)
            return True, call()
        except BaseException as error:  # the stand-in raises it in its caller
            return False, error

    def hook(event: str, args: tuple, _get_ident: Callable[[], int] = _thread.get_ident,
             _getframe: Callable[[int], Frame] = sys._getframe) -> None:
        if event not in _WATCHED and not event.startswith("ctypes."):
            return
        if event == _WITNESS_EVENT:
            name, call_args, call_kwargs, answer = args
            answer.append(witnessed(witnesses[name], call_args, call_kwargs, _get_ident, _getframe))
            return
        if event == "object.__getattr__" and args[1] not in _READ_WATCHED:
            return  # f_code and the like: reading them needs a frame, whose taking is audited
        if event == "open" and not _opens_for_writing(args[1], args[2]):
            return
        ident = _get_ident()
        if ident in busy:
            return  # an event raised by this hook itself (its own sys._getframe, f_code reads)
        busy.add(ident)
        try:
            try:
                frame = _getframe(1)
            except ValueError:
                frame = None  # raised by C code that no Python frame called
            judge(event, args, frame)
        except Exception as error:  # a hook that raises would break the audited call
            record(SUSPICIOUS, f"the audit hook could not judge {event} ({type(error).__name__})", None)
        finally:
            busy.discard(ident)

    return hook


# -- stand-ins --------------------------------------------------------------------------------

def _stand_in(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A function that has the hook make the call `name`; it holds nothing of the grader's."""

    def stand_in(*args: Any, _name: str = name, _audit: Callable[..., None] = sys.audit,
                 _event: str = _WITNESS_EVENT, **kwargs: Any) -> Any:
        answer: list[tuple[bool, Any]] = []
        _audit(_event, _name, args, kwargs, answer)
        if not answer:
            raise RuntimeError(f"{_name}() is not available in the grader's sandbox")
        done, result = answer[0]
        if not done:
            raise result
        return result

    stand_in.__name__ = getattr(original, "__name__", name)
    stand_in.__qualname__ = getattr(original, "__qualname__", name)
    stand_in.__doc__ = original.__doc__
    return stand_in


def _put_stand_ins(witnesses: dict[str, Witness]) -> None:
    import signal

    for name in ("signal", "getsignal"):
        stand_in = _stand_in(name, getattr(_signal, name))
        setattr(_signal, name, stand_in)
        getattr(signal, name).__wrapped__ = stand_in  # functools.wraps left the original there
    _imp.create_builtin = _stand_in("create_builtin", _imp.create_builtin)
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        replacement = types.ModuleType(monitoring.__name__, monitoring.__doc__)
        for name in dir(monitoring):
            value = getattr(monitoring, name)
            if f"monitoring.{name}" in witnesses:
                value = _stand_in(f"monitoring.{name}", value)
            setattr(replacement, name, value)
        sys.monitoring = replacement


def _signal_witnesses(record: Record, culprit: Culprit, wrappers: Wrappers, *,
                      callable: Callable[[Any], bool] = callable, len: Callable[[Any], int] = len,
                      id: Callable[[Any], int] = id, SUSPICIOUS: str = SUSPICIOUS) -> dict[str, Witness]:
    """signal.signal() and getsignal(): every Python handler is set behind a blindfold, a function
    that calls it without the frame; both give the handler itself back, not its blindfold."""
    set_handler, get_handler = _signal.signal, _signal.getsignal
    blindfolded: dict[int, tuple[Any, Any]] = {}  # id(blindfold) -> (blindfold, handler)

    def blindfold(handler: Any) -> Callable[[int, Frame], Any]:
        def call(signum: int, frame: Frame, _handler: Any = handler) -> Any:
            return _handler(signum, None)

        blindfolded[id(call)] = (call, handler)
        return call

    def unveiled(handler: Any) -> Any:
        entry = blindfolded.get(id(handler))
        return entry[1] if entry is not None and entry[0] is handler else handler

    def signal_witness(args: tuple, kwargs: dict, frame: Frame) -> Callable[[], Any]:
        if len(args) == 2 and callable(args[1]):
            student = None if frame is None else culprit(frame, wrappers)
            if student is not None:
                record(SUSPICIOUS, "a signal handler set (in the sandbox it is called without a frame)", student)
            args = (args[0], blindfold(args[1]))
        return lambda: unveiled(set_handler(*args, **kwargs))

    def getsignal_witness(args: tuple, kwargs: dict, frame: Frame) -> Callable[[], Any]:
        return lambda: unveiled(get_handler(*args, **kwargs))

    return {"signal": signal_witness, "getsignal": getsignal_witness}


def _monitoring_witnesses(record: Record, culprit: Culprit, wrappers: Wrappers, *,
                          TAMPERED: str = TAMPERED) -> dict[str, Witness]:
    """sys.monitoring (3.12+) raises no audit events: a call of any of its functions is tampering."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return {}

    def witness_of(name: str, function: Callable[..., Any]) -> Witness:
        def witness(args: tuple, kwargs: dict, frame: Frame) -> Callable[[], Any]:
            student = None if frame is None else culprit(frame, wrappers)
            if student is not None:
                record(TAMPERED, f"sys.monitoring.{name}() called", student, True)
            return lambda: function(*args, **kwargs)

        return witness

    return {f"monitoring.{name}": witness_of(name, value) for name in dir(monitoring)
            if callable(value := getattr(monitoring, name)) and not isinstance(value, type) and not name.startswith("__")}


def _builtin_copy_witness(record: Record, culprit: Culprit, wrappers: Wrappers, modules: dict[str, Any], *,
                          type: type = type, str: type = str, ModuleType: type = types.ModuleType,
                          TAMPERED: str = TAMPERED) -> Witness:
    """_imp.create_builtin(): a second copy of a loaded built-in module is the loaded one (the one
    loaded now, or at install time if it was taken out of sys.modules since), and asking for it
    is tampering: the copy would have none of the harness's replacements."""
    create, installed = _imp.create_builtin, dict(modules)

    def witness(args: tuple, kwargs: dict, frame: Frame) -> Callable[[], Any]:
        def call() -> Any:
            module = create(*args, **kwargs)
            name = module.__dict__.get("__name__") if type(module) is ModuleType else None
            loaded = installed.get(name, modules.get(name)) if type(name) is str else None
            if loaded is None or loaded is module:
                return module
            student = None if frame is None else culprit(frame, wrappers)
            if student is not None:
                record(TAMPERED, f"a second copy of the built-in module {name} made", student, True)
            return loaded

        return call

    return witness


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
