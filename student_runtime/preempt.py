"""Forced interleavings: make races show up on every run instead of once in a blue moon.

On CPython 3.10 and later a thread keeps the GIL for a whole switch interval, so an unlocked
`self.value += 1` run by a few threads is almost never interrupted between its read and its
write; repeating the test does not help. This module traces the code under test opcode by
opcode and, at seeded random points, gives the GIL away with a tiny sleep. Another thread then
runs in the middle of the student's read-modify-write, exactly where a real scheduler could
have switched. A correct solution cannot fail under any interleaving; an unprotected critical
section fails on almost every schedule.

Interface
---------
- `forced_interleavings(targets, seed, rate=None)`: a context manager (probes and the visible
  tests). Inside the block every frame that is not standard library, installed package or
  harness code, nor the file that opened the block, is traced, whatever its file name: the
  targets, a helper module, `exec`'d code. It applies to the calling thread, to every thread
  started inside the block and to the threads already running (started at import, or in an
  earlier block), whose running frames are traced from the block's start on; each thread draws
  its coin from its own generator, seeded from `seed` and the thread's order of start, so
  `--seed N` replays the same coins.
  `with forced_interleavings(...) as block:` gives the block; after it, `block.story()` tells
  how the interleaving lost an update in the targets' files (see race_story.py), and
  `block.telling_pause()` gives the same as plain data, for a process that did not run the code.
- `drain_blocks() -> list[dict]` (the sandbox's child binds it before the student's import):
  plain-data stats of every block since the last drain.
- `expected_blocks(kwargs, value) -> int` and `instrumentation_problems(blocks, *, expected_blocks,
  expected_caller, expected_rate) -> list[str]` (the judging process): what in the stats shows
  that the instrumentation did not run as asked. A probe that takes `seeds` runs one forced
  block per outcome it returns (at most one per seed); one that takes `seed` runs one.

Student code shares the interpreter, so everything the tracer calls (settrace, the sleep that
yields, the random generators, thread start) is bound here at import, before the student's
module is imported. The tracer's state lives in a generator frame whose locals only an audited
operation (`gi_frame`, frames, gc) reaches, and the public functions hold it in their defaults,
whose reading is audited too (see audit.py). Thread starts go through a private wrapper of
`_thread`'s start function, which installs the tracer in the new thread before any of its code
runs; on 3.12+ the `_thread.start_*` audit events also witness starts that bypass it.
`sys.gettrace()` does not reveal the tracer.

The race story's record. Each block keeps two rings its tracers share: every line its threads
run and every call they make, as (thread, code, line) with line 0 for a call, numbered by a line
clock; and every forced switch, as (thread, code, line, offset, and the line clock before and
after the pause). The lines other threads ran while one was paused are the clock's span of the
pause. Recording costs a few list stores per line, call and switch, nothing per opcode; only the
rings of the last few blocks are kept, so memory stays bounded. Only the tracer writes them, and
threads are named by their order of start in the block, never by a name the student's code sets.
"""

from __future__ import annotations

import _thread
import math
import os
import random
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from student_runtime.race_story import LOST_UPDATE, tell, telling_pause

# Probability of giving up the GIL before an opcode of the traced code. High enough that every
# read-modify-write of a few opcodes is interrupted many times per run, low enough that a
# correct solution still finishes in well under a second. The tracer keeps its own copy.
DEFAULT_PREEMPTION_RATE = 0.1
# No probe asks for fewer switches than this; a lower rate in a block's stats was not asked for.
MINIMUM_PREEMPTION_RATE = 0.1

# time.sleep(0) does not reliably hand the GIL to another thread on 3.10; a sleep of one
# microsecond does on every supported version (measured: an unlocked counter failed 50 of 50
# schedules with it, 9 of 50 with sleep(0), on 3.10).
_YIELD_SECONDS = 1e-6

# Sizes of a block's rings (powers of two): lines run, and forced switches. A visible race
# check runs about 3,000 lines per schedule; the story needs the lines around one late pause.
_LINE_RING = 1 << 13
_PAUSE_RING = 1 << 12
# Blocks whose rings are kept for a story after they close.
_KEPT_TAPES = 4

# Standard deviations below the expected number of forced switches at which a block's count is
# no longer chance (a binomial count falls that low about once in a billion blocks).
_SWITCH_TOLERANCE_SIGMAS = 6.0

_THIS_FILE = __file__
# Trusted code: this package, and the grader package beside it where there is one (in the kit
# and in the sandbox's staged runtime; a student's repository has the runtime alone).
HARNESS_FOLDERS = tuple(str(folder) for folder in (Path(__file__).resolve().parent,
                                                   Path(__file__).resolve().parents[1] / "grader")
                        if folder.is_dir())
_THREAD_START_EVENTS = frozenset({"_thread.start_new_thread", "_thread.start_joinable_thread"})


def library_locations() -> tuple[str, ...]:
    """Folders of the standard library and the installed packages, each ending in a separator,
    as configured and resolved (a venv's paths may be links)."""
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return as_prefixes(folders)


def as_prefixes(folders: Iterable[str]) -> tuple[str, ...]:
    """Each folder as written and as resolved, ending in a separator: the prefixes of its files' names."""
    prefixes = set()
    for folder in folders:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            prefixes.add(form.rstrip(os.sep) + os.sep)
    return tuple(sorted(prefixes))


def trusted_file_test(prefixes: tuple[str, ...], files: frozenset[str] = frozenset()) -> Callable[[str], bool]:
    """A test of a code object's file name: frozen modules, the given files and anything under
    the given folders are trusted (not student code).

    It compares strings only: resolving a name (os.path.realpath) would run library code that
    student code can patch into calling its own file trusted. Callers give every form of a
    folder up front (`as_prefixes`, resolved before the student's import).
    """

    def is_trusted(filename: str, _prefixes: tuple[str, ...] = prefixes, _files: frozenset[str] = files,
                   _str: type = str) -> bool:
        return type(filename) is _str and (
            filename.startswith("<frozen ") or filename in _files or filename.startswith(_prefixes))

    return is_trusted


def _source_file(target: ModuleType | str | Path) -> str:
    if isinstance(target, ModuleType):
        if getattr(target, "__file__", None) is None:
            raise ValueError(f"module {target.__name__} has no source file to trace")
        return str(Path(target.__file__).resolve())
    return str(Path(target).resolve())


class _Attach:
    """The function every thread started through the wrapper runs first: it installs the tracer
    of the block it was started in, or (on 3.10 and 3.11, where no tracer can be put into a
    running thread from outside) one that joins the next block."""

    __slots__ = ("_ticket", "_function", "_send")

    def __init__(self, ticket: tuple[int, int], function: Callable[..., Any], send: Callable[[tuple], Any]) -> None:
        self._ticket, self._function, self._send = ticket, function, send

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        send, ticket = self._send, self._ticket
        send(("attach", ticket))
        try:
            return self._function(*args, **kwargs)
        finally:
            send(("detach", ticket))


class _Block:
    """Private state of one forced block (lives only inside the engine and its tracers)."""

    def __init__(self, number: int, seed: int, rate: float, caller: tuple[str, int], ident: int) -> None:
        self.number, self.seed, self.rate, self.ident = number, seed, rate, ident
        self.open = [True]
        self.next_index = 1  # 0 is the thread that opened the block
        self.prepared: dict[int, tuple[int, Any, Any, list[int]]] = {}  # older threads, tracers made at entry
        self.opcode_tracers: set[int] = set()  # ids of its frames' tracers, removed from the frames at exit
        self.watches: list[list[int]] = []  # per thread: [student calls, opcodes, switches]
        self.decisions: dict[int, tuple[Any, bool]] = {}  # id(code) -> (code, traced?)
        self.is_trusted: Callable[[str], bool] = bool
        self.stats: dict[str, Any] = {
            "seed": seed, "rate": rate, "caller": f"{caller[0]}:{caller[1]}", "caller_file": caller[0],
            "closed": False, "witness": "audit" if sys.version_info >= (3, 12) else "wrapper",
            "threads_started": 0, "threads_bypassed": 0, "threads_traced": 0, "threads_never_traced": 0,
            "threads_lost": 0, "threads_joined": 0, "threads_unwatched": 0,
            "threads_running_student_code": 0, "student_calls": 0, "opcodes": 0, "switches": 0,
            "nested_entries": [], "exit_problems": [],
        }
        self.drained = False
        # the race story's record, shared by the block's tracers: line clock, lines, pause count, pauses
        self.tape = ([0], [None] * _LINE_RING, [0], [None] * _PAUSE_RING)


def _engine(
    default_rate: float,
    yield_seconds: float,
    kept_tapes: int,
    this_file: str,
    trusted_folders: tuple[str, ...],
    trusted_file_test: Callable[..., Callable[[str], bool]],
    block_type: type,
    settrace: Callable[[Any], None],
    gettrace: Callable[[], Any],
    sleep: Callable[[float], None],
    make_random: Callable[[Any], random.Random],
    get_ident: Callable[[], int],
    getframe: Callable[[int], FrameType],
    current_frames: Callable[[], dict[int, FrameType]],
    settrace_all: Callable[[Any], None] | None,
    joiner: list[Any],
    builtins: tuple[Any, ...],
) -> Generator[Any, tuple, None]:
    """The tracer's state machine; requests are sent under a lock by `_sender`.

    Everything it and its tracers use comes in as an argument, bound before the student's
    module is imported: patching this module's globals or the builtins afterwards changes nothing.

    Threads that were running before a block opened take part in it too, so that work handed to
    a thread started at import is preempted like any other: `joiner` holds [the open block's
    flag, the tracer that joins it]. On 3.12+ the block puts that tracer into every thread
    (`settrace_all`) while it is open; on 3.10 and 3.11 every thread started through the wrapper
    keeps it whenever it is in no block. The frames such a thread is already running (a loop
    that takes jobs from a queue) are traced from the block's entry on.
    """
    id, sum, dict, list, frozenset, type = builtins  # noqa: A001 - private copies of the builtins
    pending: list[dict[str, Any]] = []  # stats not yet drained
    blocks: dict[int, Any] = {}  # blocks whose threads may still attach or detach
    active: Any = None
    installed: dict[int, tuple[Any, Any, list[int], int]] = {}  # thread -> (tracer, previous, watch, block)
    interference: list[str] = []
    tapes: dict[int, tuple] = {}  # the rings of the last blocks, for their stories
    number = 0
    reply: Any = None
    serials: dict[int, int] = {}  # thread -> its order of start among all threads started through the wrapper
    started_total = 0

    def caller_of_request() -> tuple[str, int]:
        frame = getframe(2)  # 0: this helper, 1: the engine; above it the sender in this module
        while frame is not None and frame.f_code.co_filename == this_file:
            frame = frame.f_back
        if frame is None:
            return ("<unknown>", 0)
        return (frame.f_code.co_filename, frame.f_lineno)

    def make_tracer(block: Any, index: int) -> tuple[Callable[..., Any], Callable[..., Any], list[int]]:
        coin = make_random(f"{block.seed}:{index}").random
        watch = [0, 0, 0, 0]  # student calls, opcodes, switches, detached by itself
        block.watches.append(watch)
        rate, decisions, still_open, is_trusted = block.rate, block.decisions, block.open, block.is_trusted
        clock, lines, paused, pauses = block.tape
        line_mask, pause_mask = len(lines) - 1, len(pauses) - 1

        def trace_opcodes(frame: FrameType, event: str, arg: object) -> Any:
            if event == "opcode":
                watch[1] += 1
                if coin() < rate:
                    watch[2] += 1
                    began = clock[0]
                    sleep(yield_seconds)
                    at = paused[0]
                    paused[0] = at + 1
                    pauses[at & pause_mask] = (index, frame.f_code, frame.f_lineno, frame.f_lasti, began, clock[0])
            elif event == "line":
                at = clock[0]
                clock[0] = at + 1
                lines[at & line_mask] = (index, frame.f_code, frame.f_lineno)
            return trace_opcodes

        def trace_calls(frame: FrameType, event: str, arg: object) -> Any:
            if not still_open[0]:
                watch[3] = 1
                fallback = None if settrace_all is not None else joiner[1]
                settrace(fallback)
                return None if fallback is None else fallback(frame, event, arg)
            code = frame.f_code
            decision = decisions.get(id(code))
            if decision is None or decision[0] is not code:
                decision = decisions[id(code)] = (code, not is_trusted(code.co_filename))
            if not decision[1]:
                return None
            watch[0] += 1
            at = clock[0]
            clock[0] = at + 1
            lines[at & line_mask] = (index, code, 0)  # a call starts: the story's lines of one call
            frame.f_trace_opcodes = True
            frame.f_trace = trace_opcodes  # 3.13 sends opcode events only to a frame whose f_trace is set
            return trace_opcodes

        block.opcode_tracers.add(id(trace_opcodes))
        return trace_calls, trace_opcodes, watch

    def install(block: Any, index: int) -> None:
        tracer, _, watch = make_tracer(block, index)
        installed[get_ident()] = (tracer, gettrace(), watch, block.number)
        settrace(tracer)
        block.stats["threads_traced"] += 1

    def join(block: Any) -> Any:
        """Put the block's tracer into the calling thread, which was running before the block opened."""
        ident = get_ident()
        entry = installed.get(ident)
        if entry is not None and entry[3] == block.number:
            return entry[0]
        prepared = block.prepared.pop(ident, None)
        if prepared is None:
            index = -serials.get(ident, 1 << 20)
            tracer, _, watch = make_tracer(block, index)
        else:
            _, tracer, _, watch = prepared
        installed[ident] = (tracer, None, watch, block.number)
        settrace(tracer)
        block.stats["threads_joined"] += 1
        return tracer

    def student_frames(frame: Any, is_trusted: Callable[[str], bool]) -> list[Any]:
        found = []
        while frame is not None:
            if not is_trusted(frame.f_code.co_filename):
                found.append(frame)
            frame = frame.f_back
        return found

    def watch_older_threads(block: Any, opener: int) -> None:
        """At entry: a tracer for every other thread now running, and its student frames traced
        from here on; a thread that can take no tracer (started around the wrapper, on 3.10 and
        3.11) but runs student code makes the block unwatched."""
        for ident, frame in current_frames().items():
            if ident == opener:
                continue
            frames = student_frames(frame, block.is_trusted)
            if settrace_all is None and ident not in serials:
                if frames:
                    block.stats["threads_unwatched"] += 1
                continue
            index = -serials.get(ident, 1 << 20)
            tracer, opcodes, watch = make_tracer(block, index)
            block.prepared[ident] = (index, tracer, opcodes, watch)
            for running in frames:
                watch[0] += 1
                running.f_trace = opcodes
                running.f_trace_opcodes = True

    def stop_tracing_frames(block: Any) -> None:
        """At exit: the frames still running that the block traced step by step stop being traced."""
        tracers = block.opcode_tracers
        for frame in current_frames().values():
            while frame is not None:
                if id(frame.f_trace) in tracers:
                    frame.f_trace_opcodes = False
                    frame.f_trace = None
                frame = frame.f_back

    def tracer_kept(ident: int) -> bool:
        tracer, _, watch, _ = installed[ident]
        current = gettrace()
        return current is tracer or current is joiner[1] or watch[3] == 1

    def record_late(block: Any, field: str) -> None:
        if block.drained:  # its stats already left: report what happened since on their own
            pending.append({"seed": block.seed, "rate": block.rate, "caller": block.stats["caller"],
                            "caller_file": block.stats["caller_file"], "late": True, field: 1})
        else:
            block.stats[field] += 1

    def close(block: Any) -> None:
        block.open[0] = False
        stats = block.stats
        stats["closed"] = True
        stats["student_calls"] = sum(watch[0] for watch in block.watches)
        stats["opcodes"] = sum(watch[1] for watch in block.watches)
        stats["switches"] = sum(watch[2] for watch in block.watches)
        stats["threads_running_student_code"] = sum(1 for watch in block.watches if watch[0])
        # threading's start() returns only once the new thread runs, so by now every thread
        # started through the wrapper has attached unless something kept it from doing so
        stats["threads_never_traced"] = stats["threads_started"] - (stats["threads_traced"] - 1)

    while True:
        try:
            request = yield reply
        except GeneratorExit:
            return
        except BaseException as error:  # noqa: BLE001 - someone threw into the engine
            interference.append(f"{type(error).__name__} thrown into the tracer")
            reply = None
            continue
        reply = None
        try:
            kind = request[0]
            if kind == "start":
                started_total += 1
                if active is not None:
                    reply = (active.number, active.next_index, started_total)
                    active.next_index += 1
                    active.stats["threads_started"] += 1
                else:
                    reply = (0, 0, started_total)
            elif kind == "attach":
                serials[get_ident()] = request[1][2]
                block = blocks.get(request[1][0])
                if block is not None and block.open[0]:
                    install(block, request[1][1])
                elif settrace_all is None:
                    settrace(joiner[1])
            elif kind == "join":
                if active is not None:
                    reply = join(active)
            elif kind == "detach":
                ident = get_ident()
                serials.pop(ident, None)
                if ident in installed:
                    block = blocks.get(request[1][0])
                    if block is not None and not tracer_kept(ident):
                        record_late(block, "threads_lost")
                    del installed[ident]
                    settrace(None)
            elif kind == "witness":
                if active is not None and not request[1]:
                    active.stats["threads_bypassed"] += 1
            elif kind == "gettrace":
                current = gettrace()
                entry = installed.get(get_ident())
                reply = entry[1] if entry is not None and current is entry[0] else current
                if reply is joiner[1]:
                    reply = None
            elif kind == "enter":
                _, seed, rate = request
                caller = caller_of_request()
                if active is not None:
                    active.stats["nested_entries"].append(f"{caller[0]}:{caller[1]}")
                    reply = None
                else:
                    number += 1
                    active = block_type(number, seed, default_rate if rate is None else rate, caller, get_ident())
                    active.is_trusted = trusted_file_test(trusted_folders, frozenset({caller[0]}))
                    blocks[number] = active
                    tapes[number] = (active.open, active.tape)
                    tapes.pop(number - kept_tapes, None)
                    pending.append(active.stats)
                    install(active, 0)
                    if settrace_all is not None:
                        settrace_all(joiner[1])
                        settrace(installed[get_ident()][0])
                    watch_older_threads(active, get_ident())
                    joiner[0] = active.open
                    reply = number
            elif kind == "exit":
                ticket = request[1]
                caller = caller_of_request()
                if ticket is None:
                    pass  # the end of a nested entry: the outer block goes on
                elif active is None or active.number != ticket:
                    block = blocks.get(ticket)
                    if block is not None:
                        block.stats["exit_problems"].append(
                            f"closed again at {caller[0]}:{caller[1]} after it had been ended early")
                else:
                    ident, previous = get_ident(), None
                    if ident != active.ident or ident not in installed:
                        active.stats["exit_problems"].append(f"ended by another thread at {caller[0]}:{caller[1]}")
                    else:
                        if not tracer_kept(ident):
                            active.stats["threads_lost"] += 1
                        previous = installed.pop(ident)[1]
                        settrace(previous)
                    if caller[0] != active.stats["caller_file"]:
                        active.stats["exit_problems"].append(f"ended at {caller[0]}:{caller[1]}")
                    joiner[0] = None
                    close(active)
                    if settrace_all is not None:  # every thread's tracer goes; this thread's previous one comes back
                        for other, entry in list(installed.items()):
                            if entry[3] == active.number:
                                entry[2][3] = 1
                                if other != ident:
                                    del installed[other]
                        settrace_all(None)
                        settrace(previous)
                    stop_tracing_frames(active)
                    active = None
            elif kind == "tape":
                kept = tapes.get(request[1])
                if kept is not None and not kept[0][0]:  # a block's story is told once it has closed
                    clock, lines, paused, pauses = kept[1]
                    reply = (clock[0], list(lines), paused[0], list(pauses))
            elif kind == "drain":
                reply = [dict(stats, nested_entries=list(stats["nested_entries"]),
                              exit_problems=list(stats["exit_problems"])) for stats in pending]
                if interference:
                    reply.append({"interference": list(interference)})
                    interference.clear()
                pending.clear()
                if active is not None:  # reported again, complete, once it closes
                    pending.append(active.stats)
                attached = {entry[3] for entry in installed.values()}
                for key, block in list(blocks.items()):
                    if not block.open[0]:
                        block.drained = True
                        if key not in attached:
                            del blocks[key]
            else:
                interference.append(f"unknown request {kind!r}")
        except Exception as error:  # noqa: BLE001 - the engine must outlive a bad request
            interference.append(f"{type(error).__name__} in the tracer: {error}")
            reply = None


def _sender(engine: Generator[Any, tuple, None]) -> Callable[[tuple], Any]:
    """The one way into the engine, one request at a time. A request made by the thread that is
    already inside the engine gets None: resuming the engine's generator is itself a call that a
    thread's tracer sees (a joining tracer then asks to join), and a signal handler (pytest-
    timeout's asks sys.gettrace()) can run there too; waiting for the lock would deadlock."""
    next(engine)

    def send(request: tuple, _engine: Generator[Any, tuple, None] = engine,
             _lock: Any = _thread.allocate_lock(), _inside: list[Any] = [None],  # noqa: B006 - private state
             _get_ident: Callable[[], int] = _thread.get_ident) -> Any:
        me = _get_ident()
        if _inside[0] == me:
            return None
        with _lock:
            _inside[0] = me
            try:
                return _engine.send(request)
            except StopIteration:
                raise RuntimeError("the race check's tracer was stopped") from None
            finally:
                _inside[0] = None

    return send


def _thread_starter(original: Callable[..., Any], send: Callable[[tuple], Any], attach: type) -> Callable[..., Any]:
    def start(function: Callable[..., Any], *args: Any, _original: Callable[..., Any] = original,
              _send: Callable[[tuple], Any] = send, _attach: type = attach, **kwargs: Any) -> Any:
        function = _attach(_send(("start",)), function, _send)
        return _original(function, *args, **kwargs)

    start.__name__ = start.__qualname__ = getattr(original, "__name__", "start_new_thread")
    start.__doc__ = original.__doc__
    return start


def _wire(send: Callable[[tuple], Any], attach: type) -> None:
    """Route every thread start through the tracer and hide it from sys.gettrace()."""
    for name in ("start_new_thread", "start_new", "start_joinable_thread"):
        original = getattr(_thread, name, None)
        if original is None:
            continue
        wrapper = _thread_starter(original, send, attach)
        setattr(_thread, name, wrapper)
        for alias in ("_start_new_thread", "_start_joinable_thread"):
            if getattr(threading, alias, None) is original:
                setattr(threading, alias, wrapper)

    def gettrace(_send: Callable[[tuple], Any] = send) -> Any:
        return _send(("gettrace",))

    gettrace.__doc__ = sys.gettrace.__doc__
    sys.gettrace = gettrace

    if sys.version_info >= (3, 12):
        def witness(event: str, args: tuple, _events: frozenset[str] = _THREAD_START_EVENTS,
                    _send: Callable[[tuple], Any] = send, _attach: type = attach,
                    _isinstance: Callable[[Any, type], bool] = isinstance) -> None:
            if event in _events:
                _send(("witness", _isinstance(args[0], _attach)))

        sys.addaudithook(witness)


def _switch_opcode_events_on_for_good() -> None:
    """On 3.12, settrace() delivers opcode events only if a frame asked for them before it was
    called, and from then on for good (CPython gh-103615). Ask once, at import, while the
    process has one thread: asking in threads started later crashes 3.12.1."""
    here = sys._getframe()
    here.f_trace_opcodes = True
    sys.settrace(lambda frame, event, arg: None)
    sys.settrace(None)
    here.f_trace_opcodes = False


if sys.version_info[:2] == (3, 12):
    _switch_opcode_events_on_for_good()

def _joining_tracer(send: Callable[[tuple], Any], joiner: list[Any]) -> Callable[..., Any]:
    """The tracer of a thread in no block: while a block is open, it puts that block's tracer
    into its thread at the thread's next call; otherwise it traces nothing."""

    def join(frame: FrameType, event: str, arg: object, _send: Callable[[tuple], Any] = send,
             _joiner: list[Any] = joiner) -> Any:
        if _joiner[0] is None:
            return None
        tracer = _send(("join",))
        return None if tracer is None else tracer(frame, event, arg)

    return join


_joiner: list[Any] = [None, None]  # [the open block's flag, the joining tracer]
_send = _sender(_engine(
    DEFAULT_PREEMPTION_RATE, _YIELD_SECONDS, _KEPT_TAPES, _THIS_FILE,
    library_locations() + as_prefixes(HARNESS_FOLDERS),
    trusted_file_test, _Block, sys.settrace, sys.gettrace, time.sleep, random.Random, _thread.get_ident,
    sys._getframe, sys._current_frames, getattr(sys, "_settraceallthreads", None), _joiner,
    (id, sum, dict, list, frozenset, type),
))
_joiner[1] = _joining_tracer(_send, _joiner)
_wire(_send, _Attach)
del _Attach, _Block, _joiner  # reachable from here on only through audited reads (defaults)


class forced_interleavings:  # noqa: N801 - used like the function it replaced: `with forced_interleavings(...)`
    """Preempt threads at random opcodes of the code under test while the block runs.

    `targets` name the student's module(s); they are traced, and so is any other code that is not
    library or harness code. `rate` is the probability of a switch before each traced opcode
    (the kit's default when None). Applies to the calling thread, to every thread started
    inside the block and to the threads already running. `with ... as block:` gives the block,
    whose story can be asked once it ends.
    """

    __slots__ = ("_files", "_seed", "_rate", "_ticket")

    def __init__(self, targets: Iterable[ModuleType | str | Path], seed: int, rate: float | None = None) -> None:
        # a module without a file cannot be what the block is about
        self._files = tuple(_source_file(target) for target in targets)
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate is a probability between 0 and 1, not {rate!r}")
        self._seed, self._rate, self._ticket = seed, rate, None

    def __enter__(self, _send: Callable[[tuple], Any] = _send) -> forced_interleavings:
        self._ticket = _send(("enter", self._seed, self._rate))
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object, _send: Callable[[tuple], Any] = _send) -> None:
        _send(("exit", self._ticket))

    def telling_pause(self, kinds: Iterable[str] = LOST_UPDATE, _send: Callable[[tuple], Any] = _send,
                      _telling_pause: Callable[..., dict[str, Any] | None] = telling_pause) -> dict[str, Any] | None:
        """After the block: the forced switch that best explains a lost update in the targets'
        files (or a story of other `kinds`, see race_story.py), as plain data for
        `race_story.tell`; None if none does or the block is not the last few."""
        tape = _send(("tape", self._ticket)) if self._ticket is not None else None
        return None if tape is None else _telling_pause(tape, self._files, kinds)

    def story(self, kinds: Iterable[str] = LOST_UPDATE, _tell: Callable[[Any], str | None] = tell) -> str | None:
        """After the block: how the interleaving lost an update (or, with `kinds` IN_FLIGHT, let a
        change be seen in flight), in the targets' source lines."""
        return _tell(self.telling_pause(kinds))


def drain_blocks(_send: Callable[[tuple], Any] = _send) -> list[dict[str, Any]]:
    """Stats of every forced block since the last drain, as plain data; clears them."""
    try:
        return _send(("drain",))
    except RuntimeError as error:
        return [{"interference": [str(error)]}]


del _send


# -- judging side -----------------------------------------------------------------------------

def expected_blocks(kwargs: Mapping[str, Any], value: Any = None) -> int:
    """How many forced blocks a probe called with these arguments ran when it returned `value`.

    A probe that takes `seeds` returns one outcome per schedule it ran, and may stop early (after
    a schedule that hangs, whose threads stay stuck): as many blocks as outcomes, never more than
    seeds. Trusted code builds that list; a submission shortens it only by hanging, which fails.
    """
    if isinstance(kwargs.get("seeds"), list):
        seeds = len(kwargs["seeds"])
        return min(seeds, len(value)) if isinstance(value, list) else seeds
    return 1 if "seed" in kwargs else 0


def instrumentation_problems(
    blocks: list[dict[str, Any]],
    *,
    expected_blocks: int = 0,
    expected_caller: str | None = None,
    expected_rate: float | None = None,
) -> list[str]:
    """What in the stats of a call's forced blocks shows that the race check did not watch the
    student's code as asked; empty when it did. Runs in the judging process."""
    problems: list[str] = []
    complete = 0
    for block in blocks:
        if not isinstance(block, dict):
            problems.append("the race check's report was not what its tracer writes")
            continue
        if "interference" in block:
            problems.append(f"the race check's tracer was interfered with ({'; '.join(map(str, block['interference']))})")
            continue
        problems.extend(_block_problems(block, expected_caller, expected_rate))
        if block.get("closed") and not block.get("late"):
            complete += 1
    if complete < expected_blocks:
        problems.append(f"only {complete} of the {expected_blocks} forced schedules ran (the race check was"
                        " switched off or replaced)")
    return list(dict.fromkeys(problems))


def _block_problems(block: dict[str, Any], expected_caller: str | None, expected_rate: float | None) -> list[str]:
    problems = []
    where = f"forced schedule {block.get('seed')}"
    rate = block.get("rate")
    if not isinstance(rate, (int, float)) or rate < MINIMUM_PREEMPTION_RATE or (
            expected_rate is not None and not math.isclose(rate, expected_rate)):
        problems.append(f"{where} forced thread switches at rate {rate!r}, not the rate the grader asked for")
    if expected_caller is not None and block.get("caller_file") != expected_caller:
        problems.append(f"{where} was started from {block.get('caller')}, not by the grader")
    if block.get("late"):
        if block.get("threads_lost"):
            problems.append(f"{where}: a thread removed the race check's tracer")
        return problems
    if not block.get("closed"):
        problems.append(f"{where} was still running when the check ended")
    if block.get("threads_bypassed"):
        problems.append(f"{where}: {block['threads_bypassed']} thread(s) were started around the race check")
    if block.get("threads_lost"):
        problems.append(f"{where}: {block['threads_lost']} thread(s) removed the race check's tracer")
    if block.get("threads_unwatched"):
        problems.append(f"{where}: {block['threads_unwatched']} thread(s) started before it were running your"
                        " code where it could not be traced")
    if block.get("threads_never_traced"):
        problems.append(f"{where}: {block['threads_never_traced']} thread(s) started in it were never traced")
    for entry in block.get("nested_entries") or []:
        problems.append(f"{where}: another forced schedule was started inside it from {entry}")
    for entry in block.get("exit_problems") or []:
        problems.append(f"{where} was {entry}")
    calls, opcodes, switches = (block.get(key, 0) for key in ("student_calls", "opcodes", "switches"))
    if not all(isinstance(value, int) for value in (calls, opcodes, switches)):
        problems.append(f"{where}: the tracer's counts are not numbers")
        return problems
    if opcodes < calls:
        problems.append(f"{where}: your code ran ({calls} calls) but only {opcodes} of its steps were traced")
    if isinstance(rate, (int, float)) and 0 < rate < 1 and opcodes:
        expected = opcodes * rate
        floor = expected - _SWITCH_TOLERANCE_SIGMAS * math.sqrt(expected * (1 - rate)) - 1
        if switches < floor:
            problems.append(f"{where}: only {switches} thread switches were forced in {opcodes} steps of your"
                            f" code (about {expected:.0f} expected)")
    return problems
