"""Trusted probes for 06_primes, run in the sandbox beside the student's primes.py.

Each probe takes the student's module first and returns plain data for the hidden suite to
judge; none of them decides a verdict or measures a time (the grader reads the CPU time of the
worker processes from the kernel). Values that are not what the
contract promises (a key that is not an int, a flag that is not a bool) come back as a short
description string, so the suite can say exactly what was wrong.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from grader.harness.preempt import forced_interleavings


def _plain_flag(value: Any) -> bool | str:
    return value if type(value) is bool else f"{value!r:.60} ({type(value).__name__})"


def _plain_key(key: Any) -> int | str:
    return key if type(key) is int else f"{key!r:.60} ({type(key).__name__})"


def _plain_mapping(result: Any) -> dict[str, Any]:
    """A check_* result as {"type": ..., "pairs": [[key, flag], ...]} (JSON keys must be str)."""
    if not isinstance(result, dict):
        return {"type": type(result).__name__, "pairs": None}
    return {"type": "dict", "pairs": [[_plain_key(key), _plain_flag(flag)] for key, flag in result.items()]}


def is_prime_flags(primes: ModuleType, numbers: list[int]) -> list[bool | str | dict[str, str]]:
    """is_prime(n) for each n; an exception becomes {"raised": ...}, so one bad number does not
    hide the answers for the others."""
    flags: list[bool | str | dict[str, str]] = []
    for n in numbers:
        try:
            flags.append(_plain_flag(primes.is_prime(n)))
        except NotImplementedError:
            raise  # the stub: reported as "not implemented yet"
        except Exception as error:  # noqa: BLE001 - reported to the student, number by number
            flags.append({"raised": f"{type(error).__name__}: {error}"})
    return flags


def run_check(primes: ModuleType, function: str, numbers: list[int], workers: int | None = None) -> dict[str, Any]:
    """check_sequential(numbers), or check_threads/check_processes(numbers, workers)."""
    check = getattr(primes, function)
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


def check_threads_under_preemption(
    primes: ModuleType, seeds: list[int], numbers: list[int], workers: int
) -> list[dict[str, Any]]:
    """check_threads() once per forced schedule, with the numbers is_prime was called for more
    than once. A hand-made pool that shares an unlocked index between its threads hands one
    number to two threads here, and may skip another (on Python 3.10 the forced schedules
    mostly show the first, from 3.11 on mostly the second)."""
    original = primes.is_prime
    lock = threading.Lock()
    runs = []
    for seed in seeds:
        calls: Counter[Any] = Counter()

        def counted_is_prime(n: Any) -> Any:
            with lock:
                calls[n] += 1
            return original(n)

        with _is_prime_replaced(primes, counted_is_prime), forced_interleavings([primes], seed):
            result = primes.check_threads(numbers, workers)
        runs.append({"result": _plain_mapping(result),
                     "repeated": [[n, count] for n, count in calls.items() if count > 1]})
    return runs


def thread_pool_usage(primes: ModuleType, numbers: list[int], workers: int, patience: float) -> dict[str, Any]:
    """Which threads call is_prime during check_threads(), and how many at the same time.

    The module's is_prime is replaced by a watcher. Each thread's first call waits (up to
    `patience` seconds in all) until `workers` threads have arrived, so the threads of a
    real pool are all inside together, while a loop on one thread comes in alone.
    """
    original = primes.is_prime
    arrived: set[threading.Thread] = set()  # the objects, not their idents: a new thread may reuse an ident
    lock = threading.Lock()
    everyone_here = threading.Event()
    deadline = time.monotonic() + patience
    inside = peak = 0

    def watched_is_prime(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, peak
        me = threading.current_thread()
        with lock:
            first_call = me not in arrived
            arrived.add(me)
            inside += 1
            peak = max(peak, inside)
            if len(arrived) >= workers:
                everyone_here.set()
        try:
            if first_call:
                everyone_here.wait(max(0.0, deadline - time.monotonic()))
            return original(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    with _is_prime_replaced(primes, watched_is_prime):
        result = primes.check_threads(numbers, workers)
    return {"result": _plain_mapping(result), "threads": len(arrived), "peak": peak}




# -- watching is_prime in worker processes -----------------------------------------------------
#
# While a probe watches, the module's is_prime is `_watching_is_prime`, which reports every call
# to a listener in the calling process over a Unix socket in the working folder, whatever
# process it runs in. A worker forked during the call inherits it; a worker started by spawn
# or forkserver gets it from in_worker(), which the sandbox calls in such processes before any
# task reaches them. Without a listener it only calls the student's is_prime.

MODULE = "primes"  # the student's module of this exercise
_WATCH_SOCKET = "is_prime-watch.sock"  # in the working folder, which every worker shares
_student_is_prime: Callable[..., Any] | None = None  # where the watcher stands in
_in_worker_ran = False
_link_lock = threading.Lock()
_link: tuple[int, socket.socket | None, list[bool]] | None = None  # (pid, connection, [first call])


def in_worker() -> None:
    """Run by the sandbox in every process that spawn or forkserver starts, before any task is
    unpickled: the student's is_prime in that process becomes the watcher."""
    global _in_worker_ran
    _in_worker_ran = True
    try:
        primes = importlib.import_module(MODULE)
    except Exception:  # noqa: BLE001 - the pool reports a module that does not import
        return
    _stand_in_for(primes)
    _connection()  # says hello while a probe is listening, so it knows the hook ran


def _stand_in_for(primes: ModuleType) -> None:
    global _student_is_prime
    if getattr(primes, "is_prime", None) is not _watching_is_prime:
        _student_is_prime = getattr(primes, "is_prime", None)
        primes.is_prime = _watching_is_prime


def _connection() -> tuple[socket.socket | None, list[bool]]:
    """This process's connection to the listener (None when no probe is listening)."""
    global _link
    pid = os.getpid()
    with _link_lock:
        if _link is None or _link[0] != pid:  # none yet, or inherited from the parent by fork
            connection: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(_WATCH_SOCKET)
                connection.sendall(f"hello {pid}\n".encode())
            except OSError:
                connection.close()
                connection = None
            _link = (pid, connection, [True])
        return _link[1], _link[2]


def _watching_is_prime(*args: Any, **kwargs: Any) -> Any:
    connection, first_call = _connection()
    if connection is None:
        return _student_is_prime(*args, **kwargs)
    number = args[0] if args else kwargs.get("n")
    with _link_lock:
        waits, first_call[0] = first_call[0], False
        connection.sendall(f"enter {os.getpid()} {number if type(number) is int else 'x'}\n".encode())
        if waits:  # the listener answers once enough workers are inside together
            connection.recv(16)
    try:
        return _student_is_prime(*args, **kwargs)
    finally:
        with _link_lock:
            connection.sendall(b"leave\n")


_watching_is_prime.__module__, _watching_is_prime.__qualname__ = MODULE, "is_prime"  # pickled by that name


class _Listener:
    """Collects the is_prime calls the watchers report, and holds each worker's first call
    until `workers` worker processes are inside is_prime (or `patience` seconds have passed
    since the start), so that the workers of a pool that runs them at once are all inside
    together, while workers used one after another come in alone."""

    def __init__(self, workers: int, patience: float) -> None:
        self.workers = workers
        self.deadline = time.monotonic() + patience
        self.this_process = os.getpid()
        self.checked_in_workers: set[int] = set()
        self.calls_here = 0
        self.hellos = 0
        self.inside: Counter[int] = Counter()
        self.peak = 0
        self.arrived: set[int] = set()
        self.changed = threading.Condition()
        if os.path.exists(_WATCH_SOCKET):
            os.unlink(_WATCH_SOCKET)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(_WATCH_SOCKET)
        self.server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.server.close()
        os.unlink(_WATCH_SOCKET)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        pid, first_call = 0, True
        with connection, connection.makefile("rb") as lines:
            for line in lines:
                word, *rest = line.decode().split()
                if word == "hello":
                    pid = int(rest[0])
                    with self.changed:
                        self.hellos += 1
                elif word == "enter":
                    self._enter(pid, rest[1])
                    if first_call:
                        first_call = False
                        if pid != self.this_process:
                            with self.changed:
                                self.changed.wait_for(lambda: len(self.arrived) >= self.workers,
                                                      max(0.0, self.deadline - time.monotonic()))
                        connection.sendall(b"go\n")
                elif word == "leave":
                    with self.changed:
                        self.inside[pid] -= 1

    def _enter(self, pid: int, number: str) -> None:
        with self.changed:
            if pid == self.this_process:
                self.calls_here += 1
                return
            if number.lstrip("-").isdigit():
                self.checked_in_workers.add(int(number))
            self.inside[pid] += 1
            self.arrived.add(pid)
            self.peak = max(self.peak, sum(1 for count in self.inside.values() if count > 0))
            self.changed.notify_all()


def watched_check_processes(primes: ModuleType, numbers: list[int], workers: int, patience: float) -> dict[str, Any]:
    """check_processes(numbers, workers) with every is_prime call watched, in this process and
    in the workers: which numbers went through is_prime in worker processes, how many calls
    ran here, how many worker processes were inside is_prime at once, and whether any worker
    started by spawn or forkserver reported in."""
    listener = _Listener(workers, patience)
    try:
        _stand_in_for(primes)
        try:
            result = primes.check_processes(numbers, workers)
        finally:
            primes.is_prime = _student_is_prime  # forked workers of later calls run the student's own
    finally:
        listener.close()
    with listener.changed:
        return {"result": _plain_mapping(result), "in_workers": sorted(listener.checked_in_workers),
                "calls_here": listener.calls_here, "workers_seen": len(listener.arrived),
                "peak": listener.peak, "hellos": listener.hellos}


def _did_in_worker_run() -> bool:
    return _in_worker_ran


def worker_hook_works(primes: ModuleType) -> bool:
    """Whether a process started by spawn runs in_worker() before its first task, which is
    what lets the grader watch workers started by spawn and forkserver."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return bool(pool.apply(_did_in_worker_run))
