"""Trusted wrappers the probes put around a student's function to watch how threads call it,
and the signature that lets a report from a worker process be told from one student code wrote.

Probes import this module before the student's module is imported, so everything a wrapper
uses is bound here at that time, and its state sits in its defaults (which only an audited
read reaches), not in a closure.
"""

from __future__ import annotations

import _thread
import hashlib
import time
from collections.abc import Callable
from typing import Any


def gathering(original: Callable[..., Any], expected: int, deadline: float, lock: Any, arrived: set[Any],
              counts: list[int], everyone_here: Any, *,
              _thread_id: Callable[[], int] = getattr(_thread, "get_native_id", _thread.get_ident),
              _monotonic: Callable[[], float] = time.monotonic, _len: Callable[[Any], int] = len,
              _max: Callable[..., Any] = max) -> Callable[..., Any]:
    """`original`, noting in `arrived` the threads that call it and in `counts` how many are
    inside at once ([inside now, the most at once]); a thread's first call waits (until
    `deadline`, a time.monotonic() value) for `expected` threads to arrive, so threads that run
    at the same time are all inside together, while threads that run one after another come
    in alone. `everyone_here` is a fresh threading.Event; `lock` guards the counts.

    A thread is noted by the kernel's id of it, which no other thread gets until the kernel's
    ids wrap around; not by its Thread object, which student code makes (a subclass with
    `__eq__` and `__hash__`, or an entry swapped in `threading._active`) and could have compare
    equal to another."""

    def gathered(*args: Any, _original: Callable[..., Any] = original, _expected: int = expected,
                 _deadline: float = deadline, _lock: Any = lock, _arrived: set[Any] = arrived,
                 _counts: list[int] = counts, _everyone_here: Any = everyone_here,
                 _thread_id: Callable[[], int] = _thread_id, _monotonic: Callable[[], float] = _monotonic,
                 _len: Callable[[Any], int] = _len, _max: Callable[..., Any] = _max, **kwargs: Any) -> Any:
        me = _thread_id()
        with _lock:
            first_call = me not in _arrived
            _arrived.add(me)
            _counts[0] += 1
            _counts[1] = _max(_counts[1], _counts[0])
            if _len(_arrived) >= _expected:
                _everyone_here.set()
        try:
            if first_call:
                _everyone_here.wait(_max(0.0, _deadline - _monotonic()))
            return _original(*args, **kwargs)
        finally:
            with _lock:
                _counts[0] -= 1

    return gathered


def signer(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 (RFC 2104) with `key` over the C hash objects, whose methods no module patch
    reaches; the key survives only inside the two prepared hash states. The sandbox's child signs
    its replies with it, and 06's forked workers what their is_prime calls took; student code
    that writes to the same channel cannot."""
    padded = key.ljust(64, b"\0")
    inner_copy = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded)).copy
    outer_copy = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded)).copy

    def sign(message: bytes, *, _inner_copy: Callable[[], Any] = inner_copy,
             _outer_copy: Callable[[], Any] = outer_copy) -> str:
        inner = _inner_copy()
        inner.update(message)
        outer = _outer_copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return sign
