"""Searches the file system for the reference solution (solutions/<id>/counter.py) and runs it as its own.

It looks where a student would: beside every folder on sys.path, above its own file and the
working directory, then the whole file system for a few seconds.

Exercise: 01_race_condition
Honest points: 0 (the file holds nothing of its own)
Family: copying the reference
Flagged: yes (exec, compile)
"""

import itertools
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

_WANTED = Path("solutions") / "01_race_condition" / "counter.py"
_SEARCH_SECONDS = 5.0


def _near() -> list[Path]:
    starts = [Path(entry) for entry in sys.path if entry] + [Path.cwd(), Path(__file__).resolve().parent]
    return [folder / _WANTED for start in starts for folder in (start, *start.parents)]


def _everywhere() -> Iterator[Path]:
    deadline = time.monotonic() + _SEARCH_SECONDS
    for folder, subfolders, files in os.walk("/"):
        if time.monotonic() > deadline:
            break
        subfolders[:] = [name for name in subfolders if f"{folder}/{name}" not in ("//proc", "//sys", "//dev")]
        if folder.endswith(str(_WANTED.parent)) and _WANTED.name in files:
            yield Path(folder) / _WANTED.name


def _load_reference() -> None:
    for candidate in itertools.chain(_near(), _everywhere()):
        try:
            source = candidate.read_text()
        except OSError:
            continue
        exec(compile(source, __file__, "exec"), globals())
        return


_load_reference()
