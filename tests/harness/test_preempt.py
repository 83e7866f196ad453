"""Forced interleavings expose an unprotected read-modify-write on every schedule, and never
break code that holds a lock."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from grader.harness.preempt import forced_interleavings

COUNTERS = {
    "unlocked": """
        class Counter:
            value = 0
            def increment(self):
                self.value += 1
    """,
    "locked": """
        import threading
        class Counter:
            value = 0
            def __init__(self):
                self.lock = threading.Lock()
            def increment(self):
                with self.lock:
                    self.value += 1
    """,
}


def load(tmp_path: Path, name: str):
    path = tmp_path / f"{name}_counter.py"
    path.write_text(textwrap.dedent(COUNTERS[name]))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hammer(module, seed: int, traced=True) -> int:
    counter = module.Counter()

    def work():
        for _ in range(200):
            counter.increment()

    threads = [threading.Thread(target=work) for _ in range(4)]
    with forced_interleavings([module] if traced else [], seed):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return counter.value


def test_an_unlocked_counter_loses_updates_on_every_schedule(tmp_path):
    module = load(tmp_path, "unlocked")
    assert all(hammer(module, seed) < 800 for seed in range(10))


def test_a_locked_counter_never_loses_an_update(tmp_path):
    module = load(tmp_path, "locked")
    assert all(hammer(module, seed) == 800 for seed in range(10))


def test_only_the_target_files_are_preempted(tmp_path):
    # Without the module among the targets, nothing forces a switch mid-increment.
    module = load(tmp_path, "unlocked")
    assert hammer(module, seed=1, traced=False) == 800


def test_the_previous_trace_function_is_restored(tmp_path):
    module = load(tmp_path, "locked")
    before = sys.gettrace()
    hammer(module, seed=3)
    assert sys.gettrace() is before
