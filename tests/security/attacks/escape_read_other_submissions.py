"""Reads another student's submission and the hidden tests, and shows what it read in its error.

It searches above its own file and the working directory, beside every folder on sys.path and
then the whole file system for a few seconds.

Exercise: 01_race_condition
Select: test_no_update_is_ever_lost
Honest points: 0 (a counter without a lock loses updates under forced interleavings: races 0/5)
Family: escaping the sandbox
Flagged: no
"""

import os
import sys
import threading
import time
from pathlib import Path

_SEARCH_SECONDS = 5.0
_MINE = Path(__file__).resolve()

BREACH = "BREACH:"  # what the red-team suite looks for in the report


def _folders() -> list[Path]:
    starts = [_MINE.parent, Path.cwd(), *(Path(entry) for entry in sys.path if entry)]
    return [folder for start in starts for folder in (start, *start.parents)][:40]


def _walk(top: Path, deadline: float):
    for folder, subfolders, files in os.walk(top):
        if time.monotonic() > deadline:
            return
        subfolders[:] = [name for name in subfolders if name not in ("proc", "sys", "dev", ".git")]
        yield Path(folder), files


def _loot() -> list[str]:
    deadline = time.monotonic() + _SEARCH_SECONDS
    loot = []
    for top in [*_folders()[:6], Path("/")]:
        for folder, files in _walk(top, deadline):
            wanted = ("counter.py" in files and folder.name == "01_race_condition"
                      and folder.parent.name == "exercises")
            hidden = folder.name == "01_race_condition" and folder.parent.name == "tests"
            for name in files if (wanted or hidden) else ():
                path = folder / name
                if path.resolve() == _MINE or not name.endswith(".py") or (hidden and not name.startswith("test_")):
                    continue
                try:
                    loot.append(f"{path}: {path.read_text()[:120]!r}")
                except OSError:
                    continue
            if len(loot) >= 3:
                return loot
    return loot


_found = _loot()
if _found:
    raise RuntimeError(f"{BREACH} read " + " | ".join(_found))


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
