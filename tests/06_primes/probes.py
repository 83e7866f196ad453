"""Trusted probes for 06_primes, run in the sandbox beside the student's primes.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict or times a call (the grader does). The one figure taken
here is the CPU time of each is_prime call in a forked worker, read from the kernel's clock of
the thread that ran it by the trusted watcher, and signed (see "watching is_prime in worker
processes" below). Values that are not what the contract promises (a key that is not an int,
a flag that is not a bool) come back as a short description string, so the suite can say
exactly what was wrong.

The student's code shares this interpreter and may replace what it reaches without an audited
operation: the builtins, `threading`, `time` and `os`, this module's globals, and whatever hangs
off what it is handed (a closure's cells, an object's attributes). So every probe takes what it
calls as keyword defaults, bound when this module is imported (before the student's module is);
the watchers that stand in for is_prime keep their counts in their defaults, which only an
audited read reaches (see grader/harness/audit.py); and the listener's threads are started with
`_thread`, so that no Thread object leads to it.
"""

from __future__ import annotations

import _thread
import hmac
import importlib
import multiprocessing
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from student_runtime.preempt import forced_interleavings
from grader.harness.watchers import gathering, signer


def _plain_flag(value: Any, *, _type: type = type, _bool: type = bool) -> bool | str:
    return value if _type(value) is _bool else f"{value!r:.60} ({_type(value).__name__})"


def _plain_key(key: Any, *, _type: type = type, _int: type = int) -> int | str:
    return key if _type(key) is _int else f"{key!r:.60} ({_type(key).__name__})"


def _plain_mapping(result: Any, *, _isinstance: Callable[..., bool] = isinstance, _dict: type = dict,
                   _type: type = type, _plain_key: Callable[[Any], Any] = _plain_key,
                   _plain_flag: Callable[[Any], Any] = _plain_flag) -> dict[str, Any]:
    """A check_* result as {"type": ..., "pairs": [[key, flag], ...]} (JSON keys must be str)."""
    if not _isinstance(result, _dict):
        return {"type": _type(result).__name__, "pairs": None}
    return {"type": "dict", "pairs": [[_plain_key(key), _plain_flag(flag)] for key, flag in result.items()]}


Plain = Callable[[Any], Any]


def is_prime_flags(primes: ModuleType, numbers: list[int], *, _plain_flag: Plain = _plain_flag,
                   _type: type = type) -> list[bool | str | dict[str, str]]:
    """is_prime(n) for each n; an exception becomes {"raised": ...}, so one bad number does not
    hide the answers for the others."""
    flags: list[bool | str | dict[str, str]] = []
    for n in numbers:
        try:
            flags.append(_plain_flag(primes.is_prime(n)))
        except NotImplementedError:
            raise  # the stub: reported as "not implemented yet"
        except Exception as error:  # noqa: BLE001 - reported to the student, number by number
            flags.append({"raised": f"{_type(error).__name__}: {error}"})
    return flags


def run_check(primes: ModuleType, function: str, numbers: list[int], workers: int | None = None, *,
              _plain_mapping: Plain = _plain_mapping, _getattr: Callable[..., Any] = getattr) -> dict[str, Any]:
    """check_sequential(numbers), or check_threads/check_processes(numbers, workers)."""
    check = _getattr(primes, function)
    return _plain_mapping(check(numbers) if workers is None else check(numbers, workers))


@contextmanager
def _is_prime_replaced(primes: ModuleType, stand_in: Callable[..., Any]) -> Iterator[None]:
    """The module's is_prime is `stand_in` inside the block. The student's own functions look
    the global up when they call it, so their thread pools call the stand-in. (Process pools
    are watched by `_watching_is_prime`, which reaches workers of every start method.)"""
    original = primes.is_prime
    primes.is_prime = stand_in
    try:
        yield
    finally:
        primes.is_prime = original


def _counting(original: Callable[..., Any], calls: dict[Any, int], lock: Any) -> Callable[[Any], Any]:
    """is_prime that counts its calls per number in `calls`; its state sits in its defaults."""

    def counted_is_prime(n: Any, *, _original: Callable[..., Any] = original, _calls: dict[Any, int] = calls,
                         _lock: Any = lock) -> Any:
        with _lock:
            _calls[n] = _calls.get(n, 0) + 1
        return _original(n)

    return counted_is_prime


def check_threads_under_preemption(
    primes: ModuleType, seeds: list[int], numbers: list[int], workers: int, *,
    _forced: type = forced_interleavings, _is_prime_replaced: Callable[..., Any] = _is_prime_replaced,
    _counting: Callable[..., Any] = _counting, _plain_mapping: Plain = _plain_mapping,
    _lock: Callable[[], Any] = _thread.allocate_lock, _len: Callable[[Any], int] = len,
) -> list[dict[str, Any]]:
    """check_threads() once per forced schedule, with the numbers is_prime was called for more
    than once and, when a number was checked twice or never, what the tracer saw of the pause
    that best explains a lost update (for the story; it decides nothing, and finding it costs
    nothing on a run that goes right). A hand-made pool that shares an unlocked index between
    its threads hands one number to two threads here, and may skip another (on Python 3.10 the
    forced schedules mostly show the first, from 3.11 on mostly the second)."""
    original = primes.is_prime
    lock = _lock()
    runs = []
    for seed in seeds:
        calls: dict[Any, int] = {}
        with _is_prime_replaced(primes, _counting(original, calls, lock)), _forced([primes], seed) as block:
            result = primes.check_threads(numbers, workers)
        repeated = [[n, count] for n, count in calls.items() if count > 1]
        went_wrong = repeated or _len(calls) != _len(numbers)
        runs.append({"result": _plain_mapping(result), "repeated": repeated,
                     "pause": block.telling_pause() if went_wrong else None})
    return runs



def thread_pool_usage(
    primes: ModuleType, numbers: list[int], workers: int, patience: float, *,
    _is_prime_replaced: Callable[..., Any] = _is_prime_replaced, _gathering: Callable[..., Callable[..., Any]] = gathering,
    _plain_mapping: Plain = _plain_mapping, _lock: Callable[[], Any] = _thread.allocate_lock,
    _event: type = threading.Event, _monotonic: Callable[[], float] = time.monotonic, _set: type = set,
    _len: Callable[[Any], int] = len,
) -> dict[str, Any]:
    """Which threads call is_prime during check_threads(), and how many at the same time.

    The module's is_prime is replaced by a watcher. Each thread's first call waits (up to
    `patience` seconds in all) until `workers` threads have arrived, so the threads of a
    real pool are all inside together, while a loop on one thread comes in alone.
    """
    arrived: set[int] = _set()  # the kernel's ids of the threads (see gathering)
    counts = [0, 0]  # inside now, the most at once
    watched = _gathering(primes.is_prime, workers, _monotonic() + patience, _lock(), arrived, counts, _event())
    with _is_prime_replaced(primes, watched):
        result = primes.check_threads(numbers, workers)
    return {"result": _plain_mapping(result), "threads": _len(arrived), "peak": counts[1]}


# -- watching is_prime in worker processes -----------------------------------------------------
#
# While a probe watches, the module's is_prime is `_watching_is_prime`, which reports every call
# to a listener in the calling process over a Unix socket in the working folder, whatever
# process it runs in. A worker forked during the call inherits it; a worker started by spawn
# or forkserver gets it from in_worker(), which the sandbox calls in such processes before any
# task reaches them. Without a listener it only calls the student's is_prime.
#
# Each report of a call that ended carries the CPU time the calling thread spent inside it (the
# kernel's clock of that thread), signed with a key made when this module is imported, before
# the student's module is: a worker forked from this process holds the key, a line written to
# the socket by student code does not, and a spawned worker, whose key is another, is not
# counted. That CPU time is the sequential side of the speedup: a thread that burns CPU beside
# is_prime, or a worker that spins between calls, adds nothing to it.

MODULE = "primes"  # the student's module of this exercise
_WATCH_SOCKET = "is_prime-watch.sock"  # in the working folder, which every worker shares
# This process's watching state, reachable only through the defaults below (the module's name
# for it is deleted once they are bound): where the watcher stands in, whether in_worker() ran,
# and the link to the listener, (pid, connection, [first call]).
_WATCH: dict[str, Any] = {"student_is_prime": None, "in_worker_ran": False, "link": None,
                          "link_lock": _thread.allocate_lock(), "sign": signer(secrets.token_bytes(32))}


def _connection(*, _watch: dict[str, Any] = _WATCH, _getpid: Callable[[], int] = os.getpid,
                _socket: type = socket.socket, _unix: int = socket.AF_UNIX, _stream: int = socket.SOCK_STREAM,
                _path: str = _WATCH_SOCKET, _os_error: type = OSError) -> tuple[socket.socket | None, list[bool]]:
    """This process's connection to the listener (None when no probe is listening)."""
    pid = _getpid()
    with _watch["link_lock"]:
        link = _watch["link"]
        if link is None or link[0] != pid:  # none yet, or inherited from the parent by fork
            connection: socket.socket | None = _socket(_unix, _stream)
            try:
                connection.connect(_path)
                connection.sendall(f"hello {pid}\n".encode())
            except _os_error:
                connection.close()
                connection = None
            link = _watch["link"] = (pid, connection, [True])
        return link[1], link[2]


def _watching_is_prime(*args: Any, _watch: dict[str, Any] = _WATCH, _connection: Callable[[], Any] = _connection,
                       _getpid: Callable[[], int] = os.getpid, _type: type = type, _int: type = int,
                       _thread_time_ns: Callable[[], int] = time.thread_time_ns, **kwargs: Any) -> Any:
    connection, first_call = _connection()
    student_is_prime = _watch["student_is_prime"]
    if connection is None:
        return student_is_prime(*args, **kwargs)
    number = args[0] if args else kwargs.get("n")
    number = number if _type(number) is _int else "x"
    with _watch["link_lock"]:
        waits, first_call[0] = first_call[0], False
        connection.sendall(f"enter {_getpid()} {number}\n".encode())
        if waits:  # the listener answers once enough workers are inside together
            connection.recv(16)
    started = _thread_time_ns()
    try:
        return student_is_prime(*args, **kwargs)
    finally:
        spent = f"{_getpid()} {number} {_thread_time_ns() - started}"
        with _watch["link_lock"]:
            connection.sendall(f"leave {spent} {_watch['sign'](spent.encode())}\n".encode())
            connection.recv(16)  # noted: the result reaches the pool only after its CPU time did


_watching_is_prime.__module__, _watching_is_prime.__qualname__ = MODULE, "is_prime"  # pickled by that name


def _stand_in_for(primes: ModuleType, *, _watch: dict[str, Any] = _WATCH, _getattr: Callable[..., Any] = getattr,
                  _watching_is_prime: Callable[..., Any] = _watching_is_prime) -> None:
    if _getattr(primes, "is_prime", None) is not _watching_is_prime:
        _watch["student_is_prime"] = _getattr(primes, "is_prime", None)
        primes.is_prime = _watching_is_prime


def in_worker(*, _watch: dict[str, Any] = _WATCH, _import: Callable[[str], ModuleType] = importlib.import_module,
              _stand_in_for: Callable[[ModuleType], None] = _stand_in_for,
              _connection: Callable[[], Any] = _connection, _module: str = MODULE) -> None:
    """Run by the sandbox in every process that spawn or forkserver starts, before any task is
    unpickled: the student's is_prime in that process becomes the watcher."""
    _watch["in_worker_ran"] = True
    try:
        primes = _import(_module)
    except Exception:  # noqa: BLE001 - the pool reports a module that does not import
        return
    _stand_in_for(primes)
    _connection()  # says hello while a probe is listening, so it knows the hook ran


class _Listener:
    """Collects the is_prime calls the watchers report, and holds each worker's first call
    until `workers` worker processes are inside is_prime (or `patience` seconds have passed
    since the start), so that the workers of a pool that runs them at once are all inside
    together, while workers used one after another come in alone. Its threads are started with
    _thread, so no Thread object hands the student this object."""

    def __init__(self, workers: int, patience: float, sign: Callable[[bytes], str], *,
                 _monotonic: Callable[[], float] = time.monotonic, _getpid: Callable[[], int] = os.getpid,
                 _exists: Callable[[str], bool] = os.path.exists,
                 _unlink: Callable[[str], None] = os.unlink, _socket: type = socket.socket,
                 _unix: int = socket.AF_UNIX, _stream: int = socket.SOCK_STREAM,
                 _condition: type = threading.Condition, _start: Callable[..., Any] = _thread.start_new_thread,
                 _path: str = _WATCH_SOCKET, _set: type = set) -> None:
        self.workers = workers
        self.sign = sign
        self.cpu_ns: dict[int, int] = {}
        self.deadline = _monotonic() + patience
        self.this_process = _getpid()
        self.checked_in_workers: set[int] = _set()
        self.calls_here = 0
        self.hellos = 0
        self.inside: dict[int, int] = {}
        self.peak = 0
        self.arrived: set[int] = _set()
        self.changed = _condition()
        if _exists(_path):
            _unlink(_path)
        self.server = _socket(_unix, _stream)
        self.server.bind(_path)
        self.server.listen(64)
        _start(self._accept, ())

    def close(self, *, _unlink: Callable[[str], None] = os.unlink, _path: str = _WATCH_SOCKET) -> None:
        self.server.close()
        _unlink(_path)

    def _accept(self, *, _start: Callable[..., Any] = _thread.start_new_thread, _os_error: type = OSError) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except _os_error:  # closed
                return
            _start(self._serve, (connection,))

    def _serve(self, connection: socket.socket, *, _int: type = int, _len: Callable[[Any], int] = len,
               _max: Callable[..., Any] = max, _monotonic: Callable[[], float] = time.monotonic) -> None:
        pid, first_call = 0, True
        with connection, connection.makefile("rb") as lines:
            for line in lines:
                word, *rest = line.decode().split()
                if word == "hello":
                    pid = _int(rest[0])
                    with self.changed:
                        self.hellos += 1
                elif word == "enter":
                    self._enter(pid, rest[1])
                    if first_call:
                        first_call = False
                        if pid != self.this_process:
                            with self.changed:
                                self.changed.wait_for(lambda: _len(self.arrived) >= self.workers,
                                                      _max(0.0, self.deadline - _monotonic()))
                        connection.sendall(b"go\n")
                elif word == "leave":
                    with self.changed:
                        self.inside[pid] = self.inside.get(pid, 0) - 1
                    self._spent(rest)
                    connection.sendall(b"ok\n")

    def _spent(self, words: list[str], *, _len: Callable[[Any], int] = len, _int: type = int,
               _min: Callable[..., Any] = min,
               _same: Callable[[bytes, bytes], bool] = hmac.compare_digest) -> None:
        """Note the CPU time of a call that ended in a worker, if the trusted watcher signed the
        report; a number checked more than once counts once, at its cheapest."""
        signed = " ".join(words[:3]).encode()
        if _len(words) != 4 or not _same(words[3].encode(), self.sign(signed).encode()):
            return  # not the trusted watcher of a forked worker (spawned ones have another key)
        pid, number, spent = words[:3]
        if not number.lstrip("-").isdigit() or _int(pid) == self.this_process:
            return
        with self.changed:
            self.cpu_ns[_int(number)] = _min(_int(spent), self.cpu_ns.get(_int(number), _int(spent)))

    def _enter(self, pid: int, number: str, *, _int: type = int, _max: Callable[..., Any] = max,
               _sum: Callable[..., Any] = sum) -> None:
        with self.changed:
            if pid == self.this_process:
                self.calls_here += 1
                return
            if number.lstrip("-").isdigit():
                self.checked_in_workers.add(_int(number))
            self.inside[pid] = self.inside.get(pid, 0) + 1
            self.arrived.add(pid)
            self.peak = _max(self.peak, _sum(1 for count in self.inside.values() if count > 0))
            self.changed.notify_all()


def watched_check_processes(
    primes: ModuleType, numbers: list[int], workers: int, patience: float, *,
    _watch: dict[str, Any] = _WATCH, _listener: type = _Listener, _stand_in_for: Callable[[ModuleType], None] = _stand_in_for,
    _plain_mapping: Plain = _plain_mapping, _sorted: Callable[..., list[Any]] = sorted, _len: Callable[[Any], int] = len,
) -> dict[str, Any]:
    """check_processes(numbers, workers) with every is_prime call watched, in this process and
    in the workers: which numbers went through is_prime in worker processes, how many calls
    ran here, how many worker processes were inside is_prime at once, and whether any worker
    started by spawn or forkserver reported in; and, per number checked in a forked worker,
    the CPU time its is_prime call took there."""
    listener = _listener(workers, patience, _watch["sign"])
    try:
        _stand_in_for(primes)
        try:
            result = primes.check_processes(numbers, workers)
        finally:
            primes.is_prime = _watch["student_is_prime"]  # forked workers of later calls run the student's own
    finally:
        listener.close()
    with listener.changed:
        return {"result": _plain_mapping(result), "in_workers": _sorted(listener.checked_in_workers),
                "calls_here": listener.calls_here, "workers_seen": _len(listener.arrived),
                "peak": listener.peak, "hellos": listener.hellos,
                "cpu_ns_in_workers": [[n, ns] for n, ns in listener.cpu_ns.items()]}


def _did_in_worker_run(*, _watch: dict[str, Any] = _WATCH) -> bool:
    return _watch["in_worker_ran"]


del _WATCH


def worker_hook_works(primes: ModuleType, *, _get_context: Callable[[str], Any] = multiprocessing.get_context,
                      _did_in_worker_run: Callable[[], bool] = _did_in_worker_run, _bool: type = bool) -> bool:
    """Whether a process started by spawn runs in_worker() before its first task, which is
    what lets the grader watch workers started by spawn and forkserver."""
    with _get_context("spawn").Pool(1) as pool:
        return _bool(pool.apply(_did_in_worker_run))
