"""Deadlock stories: which thread holds which lock and waits for which.

A list of stacks shows where each stuck thread stopped, not why it cannot go on. While a check
runs, `watched_locks(module)` gives the student's module locks that remember who holds them and
at which line of the module they were taken: the module's `threading` (and any `Lock` or `RLock`
it imported from `threading` or `_thread`) is swapped for a stand-in that makes such locks, and
put back afterwards. They lock exactly like the real ones, which they wrap.

`LockWatch.wait()` waits for the check's threads and, as soon as some of them wait for each
other's locks around a cycle, or for a lock whose holder has ended, returns a report in plain
data. `find_deadlock(report)` and `deadlock_story(found)` turn it into words; they are pure, so
the process that judges can tell the story from the data alone, checking it as it goes. A wait
or a hold counts only when it is seen twice unchanged in between (the same acquire() calls, told
apart by tokens). A cycle then had each of its threads blocked all along on a lock the next one
held all along, so none of them can ever release one; a lock whose holder had ended before the
first look and still held it at the second was abandoned for good, since the lock was taken and
never released. (Both take a lock to be released by the thread that took it, as `with lock:`
does.) So a report is never a false alarm. A hang that is neither (a thread waiting on an Event,
an endless loop, locks created before the watch) gives no report, and the caller falls back on
its usual message.
"""

from __future__ import annotations

import _thread
import itertools
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Seconds between two looks at the locks while the threads run: a cycle is reported within two.
POLL_SECONDS = 0.1
_THIS_FILE = __file__
_FRAMES_SEARCHED = 12  # how far up from acquire() the line of the student's file is looked for
_LONGEST_TEXT = 120  # characters of a name or a place that a report may carry
_MOST_ROWS = 256  # waits or holds in a snapshot of a report


# -- tracking locks ---------------------------------------------------------------------------


class _TrackedLock:
    """A threading.Lock that tells its watch when a thread waits for it, takes it and releases it."""

    __slots__ = ("_inner", "_watch", "_number", "_depth", "__weakref__")

    def __init__(self, inner: Any, watch: LockWatch) -> None:
        self._inner, self._watch, self._depth = inner, watch, 0
        self._number = watch._register(self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._take(blocking, timeout)

    def __enter__(self) -> bool:
        return self._take(True, -1)

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _take(self, blocking: bool, timeout: float) -> bool:
        watch, inner = self._watch, self._inner
        if self._reentered():
            return True
        if blocking and timeout == -1:  # only an untimed wait can be part of a deadlock
            if not inner.acquire(False):
                watch._waiting(self, inner.acquire)
        elif not inner.acquire(blocking, timeout):
            return False
        self._depth = 1
        watch._holds[self._number] = (_thread.get_ident(), next(watch._tokens), watch._site())
        return True

    def _reentered(self) -> bool:
        return False

    def release(self) -> None:
        self._watch._holds.pop(self._number, None)  # before the release: a recorded hold is a real one
        self._depth = 0
        self._inner.release()

    def locked(self) -> bool:
        return self._inner.locked()

    def _at_fork_reinit(self) -> None:
        self._watch._holds.pop(self._number, None)
        self._depth = 0
        self._inner._at_fork_reinit()

    def __repr__(self) -> str:
        return repr(self._inner)


class _TrackedRLock(_TrackedLock):
    """A threading.RLock that tells its watch the same; its owner takes it again without waiting."""

    __slots__ = ()

    def _reentered(self) -> bool:
        if self._depth and self._inner._is_owned():
            self._inner.acquire()
            self._depth += 1
            return True
        return False

    def release(self) -> None:
        if not self._inner._is_owned():
            self._inner.release()  # raises the RuntimeError of a release by another thread
        self._depth -= 1
        if not self._depth:
            self._watch._holds.pop(self._number, None)
        self._inner.release()

    def locked(self) -> bool:
        return bool(self._depth)

    # What threading.Condition uses to let go of an RLock however deep, and to take it back.
    def _is_owned(self) -> bool:
        return self._inner._is_owned()

    def _release_save(self) -> Any:
        self._watch._holds.pop(self._number, None)
        self._depth = 0
        return self._inner._release_save()

    def _acquire_restore(self, state: Any) -> None:
        watch = self._watch
        watch._waiting(self, lambda: self._inner._acquire_restore(state))
        self._depth = state[0]
        watch._holds[self._number] = (_thread.get_ident(), next(watch._tokens), watch._site())


class _ThreadingWithTrackedLocks(types.ModuleType):
    """The `threading` a watched module sees: its own Lock and RLock, the rest of the real one."""

    def __init__(self, watch: LockWatch) -> None:
        super().__init__("threading", threading.__doc__)
        self.Lock, self.RLock = watch.Lock, watch.RLock

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


class LockWatch:
    """What the locks created while a module is watched know: who holds which, who waits for
    which, and where. Made by `watched_locks()`."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self._file = getattr(module, "__file__", None)
        self._shown_file = os.path.basename(self._file or "?")
        self._numbers = itertools.count(1)
        self._locks: dict[int, _TrackedLock] = {}
        self._created: dict[int, str] = {}  # lock -> the line that created it
        self._waits: dict[int, tuple[int, int, str]] = {}  # thread -> (lock, token, where it waits)
        self._holds: dict[int, tuple[int, int, str]] = {}  # lock -> (thread, token, where it was taken)
        self._tokens = itertools.count(1)

    def Lock(self) -> _TrackedLock:  # noqa: N802 - stands in for threading.Lock
        return _TrackedLock(_thread.allocate_lock(), self)

    def RLock(self) -> _TrackedRLock:  # noqa: N802 - stands in for threading.RLock
        return _TrackedRLock(_thread.RLock(), self)

    def _register(self, lock: _TrackedLock) -> int:
        number = next(self._numbers)
        self._locks[number], self._created[number] = lock, self._site()
        return number

    def _waiting(self, lock: _TrackedLock, wait: Callable[[], Any]) -> None:
        ident = _thread.get_ident()
        self._waits[ident] = (lock._number, next(self._tokens), self._site())
        try:
            wait()
        finally:
            self._waits.pop(ident, None)

    def _site(self, _getframe: Callable[[int], Any] = sys._getframe) -> str:
        """file:line of the nearest caller in the watched module's file (else the nearest caller
        outside this file) that led to this lock operation."""
        frame, fallback = _getframe(1), None
        for _ in range(_FRAMES_SEARCHED):
            if frame is None:
                break
            filename = frame.f_code.co_filename
            if filename == self._file:
                return f"{self._shown_file}:{frame.f_lineno}"
            if fallback is None and filename != _THIS_FILE:
                fallback = f"{os.path.basename(filename)}:{frame.f_lineno}"
            frame = frame.f_back
        return fallback or "?"

    def _snapshot(self, _current_frames: Callable[[], dict[int, Any]] = sys._current_frames) -> _Snapshot:
        """The waits, the holds, and the holders that had ended once the holds were copied (a
        thread that runs has a frame; one that took a lock but has none had ended)."""
        waits, holds = dict(self._waits), dict(self._holds)
        running = _current_frames().keys()
        return waits, holds, frozenset(ident for ident, _, _ in holds.values() if ident not in running)

    def wait(self, finished: Callable[[float], bool], seconds: float | None,
             names: Mapping[int, str] = types.MappingProxyType({})) -> dict[str, Any] | None:
        """Wait until `finished(timeout)` (which blocks for at most `timeout` seconds and says
        whether the threads are done) is true, or `seconds` have passed (None: no limit).
        Returns None then, or the report of a lock cycle as soon as one is certain. `names`
        names threads by their ident; other threads are named as `threading` knows them."""
        deadline = None if seconds is None else time.monotonic() + seconds
        earlier = None
        while True:
            step = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - time.monotonic())
            if finished(max(step, 0.0)):
                return None
            if deadline is not None and time.monotonic() >= deadline:
                return None
            later = self._snapshot()
            if earlier is not None:
                plain = _plain_pair(earlier, later, str)
                if _stable_cycle(*plain) is not None or _abandoned(*plain):
                    return self._report(earlier, later, names)
            earlier = later

    def _report(self, earlier: Any, later: Any, names: Mapping[int, str]) -> dict[str, Any]:
        known = {thread.ident: thread.name for thread in threading.enumerate()}
        known.update(names)

        def name(ident: int) -> str:
            return known.get(ident) or f"thread {ident}"

        first, second = _plain_pair(earlier, later, name)
        frames = sys._current_frames()
        stuck = {*later[0], *(ident for ident, _, _ in later[1].values())}  # an ended one has no frame
        places = self._places([frames[ident] for ident in stuck if ident in frames])
        locks = []
        for number in sorted({row[1] for row in second["waits"]} | {row[0] for row in second["holds"]}):
            path, key = next(filter(None, (_find_in(self._locks[number], label, namespace)
                                           for label, namespace in places)), (None, None))
            locks.append([number, path, key, self._created[number]])
        return {"earlier": first, "later": second, "locks": locks}

    def _places(self, stacks: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        """Where a lock may live, as (how code names it, its names): the attributes of `self`
        (the first argument) of the watched module's frames in the stuck threads' stacks, the
        module's globals, then those frames' local variables."""
        selves, local_names = [], []
        for frame in stacks:
            while frame is not None:
                code = frame.f_code
                if code.co_filename == self._file:
                    variables = dict(frame.f_locals)
                    if code.co_argcount and code.co_varnames[0] in variables:
                        selves.append((code.co_varnames[0], _attributes(variables[code.co_varnames[0]])))
                    local_names.append(("", variables))
                frame = frame.f_back
        return [*selves, ("", vars(self.module)), *local_names]


def _attributes(obj: Any) -> dict[str, Any]:
    """The instance attributes of obj, or nothing when it has no plain __dict__."""
    try:
        attributes = object.__getattribute__(obj, "__dict__")
    except Exception:  # noqa: BLE001 - a __dict__ that is not there or not plain names nothing
        return {}
    return attributes if type(attributes) is dict else {}


def _find_in(lock: Any, label: str, namespace: dict[str, Any]) -> tuple[str, str | None] | None:
    """Where in namespace (a dict of names) the lock is: a name, or one level into a dict, list
    or tuple held by a name; with the dict key it is stored under, when it is a str or int."""
    prefix = f"{label}." if label else ""
    for name, value in list(namespace.items()):
        if value is lock and type(name) is str:
            return f"{prefix}{name}", None
    for name, value in list(namespace.items()):
        if type(name) is not str:
            continue
        if type(value) is dict:
            for key, item in list(value.items()):
                if item is lock and type(key) in (str, int):
                    shown = f'"{key}"' if type(key) is str else str(key)
                    return f"{prefix}{name}[{key!r}]", shown
        elif type(value) in (list, tuple):
            for index, item in enumerate(value):
                if item is lock:
                    return f"{prefix}{name}[{index}]", None
    return None


@contextmanager
def watched_locks(module: types.ModuleType) -> Iterator[LockWatch]:
    """While the block runs, the locks `module` creates through `threading` (or a Lock or RLock
    it imported from `threading` or `_thread`) are tracked by the LockWatch it yields."""
    watch = LockWatch(module)
    stand_ins: dict[int, Any] = {
        id(threading): _ThreadingWithTrackedLocks(watch),
        id(threading.Lock): watch.Lock, id(_thread.allocate_lock): watch.Lock,
        id(threading.RLock): watch.RLock, id(_thread.RLock): watch.RLock,
    }
    originals = {name: value for name, value in list(vars(module).items()) if id(value) in stand_ins}
    swapped = {name: stand_ins[id(value)] for name, value in originals.items()}
    vars(module).update(swapped)
    try:
        yield watch
    finally:
        namespace = vars(module)
        for name, value in originals.items():
            if namespace.get(name) is swapped[name]:  # unless the module rebound it meanwhile
                namespace[name] = value


# -- from a report to a story (pure: the judging process runs these on reported data) -------


@dataclass(frozen=True)
class LockName:
    """How a lock is shown: where it lives (`self._lock`, `self._locks['a']`), the key it is
    stored under (`"a"`), and the line that created it."""

    path: str | None
    key: str | None
    created: str

    def first(self, noun: str | None) -> str:
        if self.key is not None:
            return f"the lock of {noun} {self.key}" if noun else f"the lock of {self.key}"
        return self.path or f"the lock created at {self.created}"

    def again(self) -> str:
        return self.key or self.path or f"the lock created at {self.created}"


@dataclass(frozen=True)
class Step:
    """One thread of a cycle: it holds a lock (taken at held_at) and waits for the next one."""

    thread: str
    holds: LockName
    held_at: str
    waits_for: LockName
    waits_at: str


@dataclass(frozen=True)
class Cycle:
    steps: tuple[Step, ...]
    behind: tuple[tuple[str, LockName], ...]  # other threads waiting for a lock of the cycle


@dataclass(frozen=True)
class Abandoned:
    """A lock whose holder ended without releasing it, and the threads that wait for it (with
    where each waits)."""

    thread: str
    lock: LockName
    held_at: str
    waiters: tuple[tuple[str, str], ...]


_Snapshot = tuple[dict[int, tuple[int, int, str]], dict[int, tuple[int, int, str]], frozenset[int]]


def _plain_pair(earlier: _Snapshot, later: _Snapshot,
                name: Callable[[int], str]) -> tuple[dict[str, Any], dict[str, Any]]:
    def plain(snapshot: _Snapshot) -> dict[str, Any]:
        waits, holds, ended = snapshot
        return {"waits": [[name(ident), lock, token, at] for ident, (lock, token, at) in waits.items()],
                "holds": [[lock, name(ident), token, at] for lock, (ident, token, at) in holds.items()],
                "ended": sorted(name(ident) for ident in ended)}

    return plain(earlier), plain(later)


def _text(value: Any) -> str:
    """A name or place from a report: a str of bounded length, with no control characters."""
    if type(value) is not str:
        raise ValueError("not text")
    value = value[:_LONGEST_TEXT]
    return value if value.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def _rows(snapshot: Any, field: str, kinds: tuple[type, ...]) -> list[list[Any]]:
    rows = snapshot[field]
    if type(rows) is not list or len(rows) > _MOST_ROWS:
        raise ValueError(field)
    checked = []
    for row in rows:
        if type(row) is not list or len(row) != len(kinds) or any(type(v) is not k for v, k in zip(row, kinds)):
            raise ValueError(field)
        checked.append([_text(v) if k is str else v for v, k in zip(row, kinds)])
    return checked


def _stable(earlier: Any, later: Any) -> tuple[dict[str, list[Any]], dict[int, list[Any]]]:
    """The waits (thread -> [lock, where]) and holds (lock -> [thread, where]) of the later
    snapshot that are the same acquire() calls in the earlier one."""
    waits = {}
    before = {row[0]: row[1:3] for row in _rows(earlier, "waits", (str, int, int, str))}
    for thread, lock, token, at in _rows(later, "waits", (str, int, int, str)):
        if before.get(thread) == [lock, token]:
            waits[thread] = [lock, at]
    holds = {}
    before = {row[0]: row[1:3] for row in _rows(earlier, "holds", (int, str, int, str))}
    for lock, thread, token, at in _rows(later, "holds", (int, str, int, str)):
        if before.get(lock) == [thread, token]:
            holds[lock] = [thread, at]
    return waits, holds


def _stable_cycle(earlier: Any, later: Any) -> tuple[list[str], dict[str, list[Any]], dict[int, list[Any]]] | None:
    """The threads of a cycle of waits that is the same in both snapshots (rotated to start
    with the first thread by name), with the waits and holds that stayed; None if there is none."""
    waits, holds = _stable(earlier, later)
    for start in sorted(waits, key=_natural):
        path = [start]
        while True:
            held = holds.get(waits[path[-1]][0])
            if held is None or held[0] not in waits:
                break
            if held[0] in path:
                cycle = path[path.index(held[0]):]
                first = min(range(len(cycle)), key=lambda index: _natural(cycle[index]))
                return cycle[first:] + cycle[:first], waits, holds
            path.append(held[0])
    return None


def _natural(name: str) -> list[Any]:
    """Sort key that puts Thread-2 before Thread-10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def _abandoned(earlier: Any, later: Any) -> dict[int, tuple[str, str, list[list[str]]]]:
    """lock -> (its holder, where it was taken, [[waiter, where it waits], ...]) for each lock
    held in both snapshots by a thread that had ended at the first, and waited for in both."""
    ended = earlier.get("ended", [])
    if type(ended) is not list or len(ended) > _MOST_ROWS or any(type(thread) is not str for thread in ended):
        raise ValueError("ended")
    waits, holds = _stable(earlier, later)
    ended_names = {_text(thread) for thread in ended}
    gone = {lock: held for lock, held in holds.items() if held[0] in ended_names}
    found: dict[int, tuple[str, str, list[list[str]]]] = {}
    for thread in sorted(waits, key=_natural):
        lock, at = waits[thread]
        if lock in gone:
            found.setdefault(lock, (*gone[lock], []))[2].append([thread, at])
    return found


def _lock_names(report: dict[str, Any]) -> dict[int, LockName]:
    names = {}
    for number, path, key, created in report["locks"][:_MOST_ROWS]:
        if type(number) is not int or (path is not None and type(path) is not str) or (
                key is not None and type(key) is not str):
            raise ValueError("locks")
        names[number] = LockName(None if path is None else _text(path), None if key is None else _text(key),
                                 _text(created))
    return names


def find_deadlock(report: Any) -> Cycle | tuple[Abandoned, ...] | None:
    """What a report shows, checked as untrusted data: a cycle of lock waits, else the locks
    that ended threads left held while others wait for them (first waiter first), else None
    (also when it is not what `LockWatch.wait()` writes)."""
    cycle = find_cycle(report)
    if cycle is not None:
        return cycle
    try:
        found = _abandoned(report["earlier"], report["later"])
        names = _lock_names(report)
        return tuple(Abandoned(thread, names[lock], at, tuple(map(tuple, waiters)))
                     for lock, (thread, at, waiters) in found.items()) or None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None


def find_cycle(report: Any) -> Cycle | None:
    """The lock cycle a report shows, checked as untrusted data: None if it shows none or is
    not what `LockWatch.wait()` writes."""
    try:
        if type(report) is not dict:
            return None
        found = _stable_cycle(report["earlier"], report["later"])
        if found is None:
            return None
        threads, waits, holds = found
        names = _lock_names(report)
        steps = []
        for index, thread in enumerate(threads):
            held = waits[threads[index - 1]][0]
            steps.append(Step(thread, names[held], holds[held][1], names[waits[thread][0]], waits[thread][1]))
        cycle_locks = {waits[thread][0] for thread in threads}
        behind = tuple((thread, names[waits[thread][0]]) for thread in sorted(waits, key=_natural)
                       if thread not in threads and waits[thread][0] in cycle_locks)
        return Cycle(tuple(steps), behind)
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def deadlock_story(found: Cycle | tuple[Abandoned, ...], noun: str | None = None) -> str:
    """What `find_deadlock` found, in words: who holds which lock (taken at which line) and
    waits for which, or who ended holding a lock that others wait for. `noun` says what the key
    of a lock stored in a dict names ("account": the lock of account "a")."""
    if not isinstance(found, Cycle):
        return _abandoned_story(found, noun)
    cycle = found
    mentioned: set[LockName] = set()

    def lock(name: LockName) -> str:
        if name in mentioned:
            return name.again()
        shown = name.first(noun if not mentioned else None)
        mentioned.add(name)
        return shown

    first, *others = cycle.steps
    if not others:
        story = (f"{first.thread} waits for {lock(first.waits_for)} at {first.waits_at}, but holds that lock"
                 f" itself (taken at {first.held_at}): a thread that waits for a lock it holds waits forever.")
    else:
        parts = [f"{first.thread} holds {lock(first.holds)} ({first.held_at}) and waits for"
                 f" {lock(first.waits_for)} ({first.waits_at})"]
        for step in others:
            held_at = "" if step.held_at == first.held_at else f" ({step.held_at})"
            waits_at = "" if step.waits_at == first.waits_at else f" ({step.waits_at})"
            parts.append(f"{step.thread} holds {lock(step.holds)}{held_at}"
                         f" and waits for {lock(step.waits_for)}{waits_at}")
        if len(parts) == 2:
            story = f"{parts[0]}, while {parts[1]}: each waits for the other forever."
        else:
            story = "; ".join(parts) + ": each waits for the next, around a cycle that never ends."
    for name in dict.fromkeys(name for _, name in cycle.behind):
        threads = [thread for thread, waited in cycle.behind if waited == name]
        together = threads[0] if len(threads) == 1 else f"{', '.join(threads[:-1])} and {threads[-1]}"
        story += f" {together} wait{'s' if len(threads) == 1 else ''} for {lock(name)} too."
    return story


def _abandoned_story(abandoned: tuple[Abandoned, ...], noun: str | None) -> str:
    first, *others = abandoned
    waiters = [thread for thread, _ in first.waiters]
    together = waiters[0] if len(waiters) == 1 else f"{', '.join(waiters[:-1])} and {waiters[-1]}"
    places = sorted({at for _, at in first.waiters}, key=_natural)
    story = (f"{first.thread} ended while it still held {first.lock.first(noun)}, taken at {first.held_at}:"
             f" nothing will ever release it, and {together} wait{'s' if len(waiters) == 1 else ''} for it"
             f" at {', '.join(places)} forever.")
    if others:
        story += f" {len(others)} more lock{'s were' if len(others) > 1 else ' was'} left held the same way."
    return story
