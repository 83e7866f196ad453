"""The audit trail cannot be erased: an event that gives student code a way into trusted state
leaves the sandbox's child, in the answer to the call the grader awaits, before that code goes
on; and nothing the student's code reaches without such an event holds the trail."""

from __future__ import annotations

import re
import textwrap
import time

import pytest

from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding
from grader.harness.sandbox import StudentCodeError

PROBES = '''
def call(module, name, args=()):
    return getattr(module, name)(*args)
'''

# Empties every list and calls every function it finds in the trusted frames above it: the
# trail, the channel, whatever drains or answers; then returns 42 as if nothing happened.
ERASER = """
    def erase_everything_from(frame):
        while frame is not None:
            for name, value in list(frame.f_locals.items()):
                if callable(value) and name not in ("read", "probe", "describe", "dump_later", "cancel_dump"):
                    for cell in getattr(value, "__closure__", None) or ():
                        contents = cell.cell_contents
                        if isinstance(contents, list):
                            contents.clear()
                        elif isinstance(contents, dict) and "next" in contents:
                            contents["urgent"] = None
            frame = frame.f_back
"""



def line_of(source: str, text: str) -> int:
    """The number of the line of the (dedented) module source that holds `text`."""
    return next(number for number, line in enumerate(textwrap.dedent(source).splitlines(), start=1) if text in line)


def test_a_frame_taken_leaves_with_the_answer_before_the_code_can_erase_it(sandbox_for):
    source = ERASER + """
    import sys
    def answer():
        erase_everything_from(sys._getframe())
        return 42
    """
    box = sandbox_for(source)
    evidence = f"a frame taken with sys._getframe() from submission0.py:{line_of(source, 'sys._getframe()')}"
    with pytest.raises(StudentCodeError, match=re.escape(
            f"TamperingDetected: the submission reached into the grader's code ({evidence})")):
        box.call("call", name="answer")
    assert Finding(TAMPERED, evidence) in box.findings
    # The sandbox goes on serving calls; the same evidence is not sent twice.
    assert box.call("call", name="answer") == 42


def test_an_event_between_calls_answers_the_next_call(sandbox_for):
    source = ERASER + """
    import sys, threading, time
    def later():
        time.sleep(0.3)
        erase_everything_from(sys._getframe())
    def start():
        threading.Thread(target=later).start()
    def answer():
        return 42
    """
    box = sandbox_for(source)
    box.call("call", name="start")
    time.sleep(1.0)
    with pytest.raises(StudentCodeError, match="TamperingDetected"):
        box.call("call", name="answer")
    evidence = f"a frame taken with sys._getframe() from submission0.py:{line_of(source, 'sys._getframe()')}"
    assert Finding(TAMPERED, evidence) in box.findings
    assert box.call("call", name="answer") == 42  # the loop's own answer to the failed call was dropped


def test_an_event_that_gives_no_way_in_waits_for_the_answer(sandbox_for):
    source = """
    def answer():
        def f():
            return 42
        return f.__code__.replace(co_name="g") and f()
    """
    box = sandbox_for(source)
    assert box.call("call", name="answer") == 42
    line = line_of(source, "replace")
    assert Finding(TAMPERED, f"a code object built (code.replace() or CodeType()) from submission0.py:{line}") \
        in box.findings


def test_the_probes_are_the_ones_imported_before_the_students_module(sandbox_for):
    box = sandbox_for("""
    import sys
    sys.modules["probes"].call = lambda module, name, args=(): "forged"
    def answer():
        return 42
    """)
    assert box.call("call", name="answer") == 42


def test_a_signal_handler_is_called_without_the_frame_and_flagged(sandbox_for):
    box = sandbox_for("""
    import signal
    frames = []
    def answer():
        previous = signal.signal(signal.SIGUSR1, lambda signum, frame: frames.append(frame))
        signal.raise_signal(signal.SIGUSR1)
        mine = signal.getsignal(signal.SIGUSR1)
        signal.signal(signal.SIGUSR1, previous)
        return [frames == [None], getattr(mine, "__name__", None), signal.getsignal(signal.SIGUSR1) == previous]
    """)
    assert box.call("call", name="answer") == [True, "<lambda>", True]
    assert box.findings == [Finding(SUSPICIOUS, "a signal handler set (in the sandbox it is called without a frame)"
                                                " from submission0.py:5")]


@pytest.mark.parametrize("copy", [
    "sys.modules.pop('_signal') and importlib.import_module('_signal')",
    "importlib.util.module_from_spec(_signal.__spec__)",
])
def test_a_fresh_copy_of_a_loaded_module_leaves_at_once(sandbox_for, copy):
    # A copy of _signal would set a handler that is given the frame: the event must be out first.
    box = sandbox_for(f"""
    import _signal, importlib, importlib.util, sys
    def answer():
        fresh = {copy}
        return fresh is _signal
    """)
    with pytest.raises(StudentCodeError, match="TamperingDetected"):
        box.call("call", name="answer")
    assert any(finding.status == TAMPERED and "_signal" in finding.evidence for finding in box.findings)


def test_patching_os_path_does_not_make_the_students_file_trusted(sandbox_for):
    # Resolving a file name would run posixpath's code, which the module patches first so that
    # its own file resolves into the standard library.
    source = """
    import os, posixpath, sys
    _library = os.path.dirname(os.__file__)
    posixpath.realpath = posixpath.abspath = lambda path, *args, **kwargs: os.path.join(_library, "os.py")
    def answer():
        sys._getframe()
        return 42
    """
    box = sandbox_for(source)
    evidence = f"a frame taken with sys._getframe() from submission0.py:{line_of(source, 'sys._getframe()')}"
    with pytest.raises(StudentCodeError, match=re.escape(evidence)):
        box.call("call", name="answer")
    assert Finding(TAMPERED, evidence) in box.findings
