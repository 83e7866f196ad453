"""The sandbox holds untrusted code at arm's length: whatever the student's module does, the
judging process gets plain data or a clear verdict, and never hangs."""

from __future__ import annotations

import os
import re
import sys
import time

import pytest

from grader.harness import sandbox
from grader.harness.sandbox import (
    NotImplementedYet,
    ReplyTooLarge,
    Sandbox,
    StudentCodeError,
    StudentCodeHung,
    StudentProcessDied,
    SubmissionFailure,
)

PROBES = '''
def call(module, name, args=()):
    return getattr(module, name)(*args)


def length_of(module, name):
    return len(getattr(module, name)())
'''



def test_returns_plain_data(sandbox_for):
    box = sandbox_for("def answer(): return {'total': 42, 'items': [1, 2.5, 'x', None, True]}")
    assert box.call("call", name="answer") == {"total": 42, "items": [1, 2.5, "x", None, True]}


def test_an_object_with_a_rigged_eq_never_reaches_the_judge(sandbox_for):
    box = sandbox_for("""
        class AlwaysEqual:
            def __eq__(self, other): return True
        def answer(): return AlwaysEqual()
    """)
    with pytest.raises(StudentCodeError, match="not plain data"):
        box.call("call", name="answer")


def test_builtins_rebound_by_student_code_never_reach_the_probes(sandbox_for):
    box = sandbox_for("import builtins\nbuiltins.len = lambda value: 99\ndef items(): return [1, 2, 3]\n")
    assert box.call("call", name="items") == [1, 2, 3]
    assert box.call("length_of", name="items") == 3


def test_an_int_subclass_arrives_as_its_true_value(sandbox_for):
    box = sandbox_for("""
        class Liar(int):
            def __eq__(self, other): return True
            def __repr__(self): return '8000'
            __str__ = __repr__
        def answer(): return Liar(7)
    """)
    assert box.call("call", name="answer") == 7


def test_not_implemented_is_reported_kindly(sandbox_for):
    box = sandbox_for("def answer(): raise NotImplementedError('answer() is not written yet')")
    with pytest.raises(NotImplementedYet, match="not implemented yet.*answer\\(\\) is not written yet"):
        box.call("call", name="answer")


def test_student_exception_names_the_error_and_the_line(sandbox_for):
    box = sandbox_for("def answer():\n    return 1 / 0\n")
    with pytest.raises(StudentCodeError) as caught:
        box.call("call", name="answer")
    message = str(caught.value)
    assert "ZeroDivisionError" in message and 'File "submission0.py", line 2, in answer' in message
    assert "sandbox-" not in message and "child.py" not in message  # no folder of the grading machine


@pytest.mark.parametrize("exit_call", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_exiting_early_gains_nothing(sandbox_for, exit_call):
    box = sandbox_for(f"def answer():\n    {exit_call}\n")
    with pytest.raises(StudentProcessDied):
        box.call("call", name="answer")


def test_printed_text_cannot_forge_a_reply(sandbox_for):
    box = sandbox_for("""
        import sys
        def answer():
            print('{"ok": true, "value": 8000}')
            sys.stdout.flush()
            return 1
    """)
    assert box.call("call", name="answer") == 1
    assert '"value": 8000' in box.output()


def test_patching_time_in_the_child_does_not_change_the_parents_timing(sandbox_for):
    box = sandbox_for("""
        import time
        def answer():
            time.sleep(0.3)
            time.perf_counter = lambda: 0.0
            time.monotonic = lambda: 0.0
            return 1
    """)
    value, seconds = box.timed_call("call", name="answer")
    assert value == 1 and seconds >= 0.3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux lets a process read another's CPU clock")
def test_cpu_time_counts_work_and_not_waiting(sandbox_for):
    box = sandbox_for("""
        import time
        def work(seconds):  # seconds of CPU time, however busy the machine
            until = time.process_time() + seconds
            while time.process_time() < until:
                pass
        def wait(seconds):
            time.sleep(seconds)
    """)
    _, worked = box.cpu_timed_call("call", name="work", args=[0.3])
    _, waited = box.cpu_timed_call("call", name="wait", args=[0.3])
    assert worked >= 0.25, f"0.3 s of work measured as {worked:.3f} CPU seconds"
    assert waited < 0.1, f"0.3 s of sleep measured as {waited:.3f} CPU seconds"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux lets a process read another's CPU clock")
@pytest.mark.parametrize(("name", "burns"), [
    ("ended", True), ("still_running", True), ("orphan", True), ("sleeping", False),
])
def test_cpu_time_counts_every_process_of_the_sandbox(sandbox_for, name, burns):
    box = sandbox_for("""
        import multiprocessing, os, time
        fork = multiprocessing.get_context("fork")
        def burn(seconds):
            until = time.process_time() + seconds
            while time.process_time() < until:
                pass
        def ended():
            process = fork.Process(target=burn, args=(0.3,))
            process.start()
            process.join()
        def still_running():  # burns, then lives on past the call
            burned, spinning = fork.Pipe(duplex=False)
            fork.Process(target=lambda: burn(0.3) or spinning.send(1) or time.sleep(60), daemon=True).start()
            burned.recv()
        def orphan():  # a grandchild whose parent is gone: the sandbox's subreaper waits for it
            done, write = os.pipe()
            middle = os.fork()
            if middle == 0:
                if os.fork() == 0:
                    burn(0.3)
                os._exit(0)
            os.close(write)
            os.waitpid(middle, 0)
            os.read(done, 1)  # end of file: the grandchild has ended
        def sleeping():
            process = fork.Process(target=time.sleep, args=(0.3,))
            process.start()
            process.join()
    """)
    _, used = box.cpu_timed_call("call", name=name)
    if burns:
        assert used >= 0.25, f"0.3 s of work in another process measured as {used:.3f} CPU seconds"
    else:
        assert used < 0.1, f"0.3 s of sleep in another process measured as {used:.3f} CPU seconds"


def test_a_reply_over_the_size_cap_fails_the_call(sandbox_for, monkeypatch):
    monkeypatch.setattr(sandbox, "MAX_REPLY_BYTES", 1 << 20)  # the reader reads the cap at each line
    box = sandbox_for("def text(size): return 'x' * size")
    assert box.call("call", name="text", args=[900_000]) == "x" * 900_000
    with pytest.raises(ReplyTooLarge, match="during call, the result was larger than 1 MiB"):
        box.call("call", name="text", args=[3 << 20])
    assert box.call("call", name="text", args=[3]) == "xxx"  # a fresh sandbox: the channel is in step


def test_a_deadlock_fails_fast_with_the_stuck_stacks(sandbox_for):
    box = sandbox_for("""
        import threading
        def answer():
            first, second = threading.Lock(), threading.Lock()
            def grab(a, b, ready):
                with a:
                    ready.wait()
                    with b:
                        pass
            ready = threading.Barrier(2)
            threads = [threading.Thread(target=grab, args=(first, second, ready)),
                       threading.Thread(target=grab, args=(second, first, ready))]
            for t in threads: t.start()
            for t in threads: t.join()
    """)
    started = time.perf_counter()
    with pytest.raises(StudentCodeHung) as caught:
        box.call("call", name="answer", timeout=1.0)
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert "did not finish within 1.0 s" in message
    assert 'File "submission0.py", line 8 in grab' in message, message
    assert "sandbox-" not in message and "kit-runtime-" not in message


def test_the_sandbox_recovers_after_a_hang(sandbox_for):
    box = sandbox_for("def answer(seconds):\n    import time; time.sleep(seconds); return seconds\n")
    with pytest.raises(StudentCodeHung):
        box.call("call", name="answer", args=[30], timeout=0.5)
    assert box.call("call", name="answer", args=[0]) == 0


def test_a_syntax_error_shows_the_students_line_and_caret(sandbox_for):
    with pytest.raises(StudentCodeError, match="SyntaxError") as caught:
        sandbox_for("x = 1\ndef answer(:\n    pass\n")
    message = str(caught.value)
    assert 'File "submission0.py", line 2\n    |     def answer(:\n' in message and "^" in message
    assert "importlib" not in message and "sandbox-" not in message and "<frozen" not in message


def test_a_missing_file_says_where_it_was_expected(tmp_path):
    with pytest.raises(SubmissionFailure, match="missing file"):
        Sandbox(tmp_path / "nothing.py", tmp_path / "probes.py").start()


def test_the_working_directory_is_fresh_and_empty(sandbox_for):
    box = sandbox_for("import os\ndef answer(): return os.listdir('.')\n")
    assert box.call("call", name="answer") == []


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX only")
def test_file_size_is_limited(sandbox_for):
    box = sandbox_for("def answer():\n    open('big', 'wb').write(b'x' * (100 << 20))\n")
    with pytest.raises((StudentCodeError, StudentProcessDied)):
        box.call("call", name="answer")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="address-space limits are enforced on Linux")
def test_memory_is_limited(sandbox_for):
    box = sandbox_for("def answer():\n    return len(bytearray(16 << 30))\n")
    with pytest.raises(StudentCodeError, match="MemoryError"):
        box.call("call", name="answer")


# A points line of the grader's summary, as a script reading pytest's output would find it.
FAKE_POINTS = "01_race_condition: 10/10 (correctness 2/2, races 5/5, concurrency 3/3)"
POINTS_LINE = re.compile(r"^\d\d_\w+: \d+/\d+")
# Each writes the fake line where the grader shows what the child wrote, after a line break, a
# carriage return, a terminal's "cursor to column 1" or a Unicode line separator.
FAKE_WRITERS = {
    "printed then exited": ("""
        import os
        def answer():
            print("\\n{fake}\\r{fake}\\x1b[1G{fake}\\u2028{fake}", flush=True)
            os._exit(0)
    """, StudentProcessDied),
    "in an exception": ("""
        def answer():
            raise ValueError("\\n{fake}\\r{fake}")
    """, StudentCodeError),
    "in an exception's name": ("""
        def answer():
            raise type("Oops\\n{fake}", (Exception,), {{}})()
    """, StudentCodeError),
    "in a frame of the traceback": ("""
        def answer():
            def inner():
                raise ValueError("x")
            inner.__code__ = inner.__code__.replace(co_name="inner\\n{fake}")
            inner()
    """, StudentCodeError),
    "after the thread dump of a hang": ("""
        import threading, time
        def answer():
            def over_and_over():  # before the dump at the deadline, and after it
                while True:
                    print("\\n{fake}", flush=True)
                    time.sleep(0.1)
            threading.Thread(target=over_and_over, daemon=True).start()
            time.sleep(60)
    """, StudentCodeHung),
}


@pytest.mark.parametrize("where", FAKE_WRITERS)
def test_what_the_child_wrote_cannot_start_a_line_of_the_graders_output(sandbox_for, where):
    source, failure = FAKE_WRITERS[where]
    box = sandbox_for(source.format(fake=FAKE_POINTS))
    with pytest.raises(failure) as caught:
        box.call("call", name="answer", timeout=1.0)
    message = str(caught.value)
    assert FAKE_POINTS in message  # shown to the student, but quoted:
    assert not [line for line in message.splitlines() if POINTS_LINE.match(line)], message
    assert all(character.isprintable() or character in "\n\t" for character in message), repr(message)


def test_the_pid_is_the_process_that_leads_the_sandbox(sandbox_for):
    box = sandbox_for("import os\ndef parent(): return os.getppid()\n")
    assert box.call("call", name="parent") == box.pid  # the worker's parent: the supervisor, or the child itself
    if hasattr(os, "getpgid"):
        assert os.getpgid(box.pid) == box.pid
    box.close()
    with pytest.raises(RuntimeError, match="not running"):
        box.pid
