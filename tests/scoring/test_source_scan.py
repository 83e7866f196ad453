"""The scan of a student's source: what no solution of these exercises needs is flagged as
suspicious with its line, and nothing a correct solution writes is."""

from __future__ import annotations

import pytest

from grader.harness.integrity import SUSPICIOUS, overall_status, scan_source
from grader.manifest import KIT_ROOT, load_exercises

FLAGGED = {
    "import sys\nsys.settrace(None)\n": (2, "sys.settrace"),
    "import threading as t\nt.setprofile(print)\n": (2, "threading.setprofile"),
    "from sys import _getframe\n": (1, "sys._getframe"),
    "import sys\nx = 1\nprint(sys._current_frames())\n": (3, "sys._current_frames"),
    "import inspect\nframe = inspect.currentframe()\n": (2, "inspect.currentframe"),
    "def f(frame):\n    frame.f_trace = None\n": (2, "f_trace"),
    "def f(error):\n    return error.__traceback__.tb_frame\n": (2, "tb_frame"),
    "import sys\nsys.monitoring.use_tool_id(3, 'x')\n": (2, "sys.monitoring"),
    "x = getattr(__import__('sys'), 'gettrace')\n": (1, "'gettrace'"),
    "import gc\n": (1, "gc"),
    "import ctypes\n": (1, "ctypes"),
    "import sys\nsys.modules['threading'] = None\n": (2, "sys.modules"),
    "with open('/proc/self/status') as f:\n    pass\n": (1, "/proc"),
    "import os\nos.kill(os.getppid(), 9)\n": (2, "os.kill"),
    "from os import killpg\n": (1, "os.killpg"),
    "import os\nif os.fork() == 0:\n    os.setsid()\n": (2, "os.fork"),
    "exec('x = 1')\n": (1, "exec"),
    "y = eval('1')\n": (1, "eval"),
    "code = compile('1', 'f', 'eval')\n": (1, "compile"),
    "def f():\n    pass\nf.__code__ = None\n": (3, "__code__"),
    "def f(code):\n    return code.replace(co_filename='x.py')\n": (2, "code.replace(co_...)"),
    "import importlib.util\nspec = importlib.util.spec_from_file_location('m', 'm.py')\n":
        (2, "importlib.util.spec_from_file_location"),
    "import runpy\n": (1, "runpy"),
    "import sys\nsys.path.insert(0, 'x')\n": (2, "sys.path"),
    "text = open('../../solutions/01_race_condition/counter.py').read()\n":
        (1, "open('../../solutions/01_race_condition/counter.py')"),
    "from pathlib import Path\nPath('/etc/passwd').read_text()\n": (2, "pathlib.Path('/etc/passwd')"),
    "__builtins__['print'] = None\n": (1, "__builtins__"),
    "import builtins\nbuiltins.print = None\n": (1, "builtins"),
    "import threading\ncells = threading.current_thread()._target.__closure__\n": (2, "__closure__"),
    "def f(cells):\n    return [cell.cell_contents for cell in cells]\n": (2, "cell_contents"),
    "def f(function):\n    return function.__kwdefaults__\n": (2, "__kwdefaults__"),
    "def f(function):\n    return function.__globals__['plan']\n": (2, "__globals__"),
    "x = getattr(len, '__defaults__', None)\n": (1, "'__defaults__'"),
    "import signal\nsignal.signal(signal.SIGUSR1, print)\n": (2, "signal.signal"),
    "from signal import raise_signal\n": (1, "signal.raise_signal"),
    "import signal\nsignal.setitimer(signal.ITIMER_REAL, 0.1)\n": (2, "signal.setitimer"),
    "import _signal\n": (1, "_signal"),
    "import importlib.util, _signal\nimportlib.util.module_from_spec(_signal.__spec__)\n":
        (2, "importlib.util.module_from_spec"),
    "import bdb\n": (1, "bdb"),
    "breakpoint()\n": (1, "breakpoint"),
}


@pytest.mark.parametrize("source", FLAGGED, ids=[name for _, name in FLAGGED.values()])
def test_flags_what_no_solution_needs_with_its_line(source: str):
    line, name = FLAGGED[source]
    findings = scan_source(source, "counter.py")
    assert findings, f"nothing flagged in {source!r}"
    assert all(finding.status == SUSPICIOUS for finding in findings)
    assert any(finding.evidence.startswith(f"counter.py:{line}: {name} (") for finding in findings), findings


def test_ordinary_code_is_not_flagged():
    source = (
        "import re\nimport threading\nfrom re import compile as compile_pattern\n"
        "PATTERN = re.compile('x')\n# sys.settrace would be suspicious, but this is a comment\n"
        "with open('data.txt') as f:\n    pass\nlock = threading.Lock()\n"
    )
    assert scan_source(source, "counter.py") == []


def test_a_file_that_does_not_parse_is_scanned_line_by_line():
    findings = scan_source("import sys\ndef broken(:\n    sys.settrace(None)\n", "counter.py")
    assert overall_status(findings) == SUSPICIOUS
    assert any(finding.evidence.startswith("counter.py:3: sys.settrace") for finding in findings)


SHIPPED = sorted({
    path
    for exercise in load_exercises()
    for path in (exercise.module_file(), exercise.module_file(KIT_ROOT), *(m.path for m in exercise.mutants()))
})


@pytest.mark.parametrize("path", SHIPPED, ids=[str(path.relative_to(KIT_ROOT)) for path in SHIPPED])
def test_the_references_stubs_and_mutants_scan_clean(path):
    assert scan_source(path.read_text(encoding="utf-8"), path.name) == []
