"""Each way of switching the race checks off (issue 7's list) is either neutralised, so that the
lost update still happens on every forced schedule, or caught: the audit hook records a
tampered event, or the tracer's stats give an instrumentation problem.

Audit hooks cannot be removed, so every case runs in a fresh interpreter laid out like the
sandbox's child: trusted code in one folder imports the harness, installs the hook, then
imports the student's module from another folder and runs a race probe on it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.harness.audit import findings_from
from grader.harness.integrity import SUSPICIOUS, TAMPERED, Finding

KIT_ROOT = Path(__file__).resolve().parents[2]
SEEDS = [1, 2, 3]
THREADS, INCREMENTS = 4, 150

# The trusted side: what the child and a probe do, and what the judging side gets back.
RUNNER = """
import json, sys, threading
sys.path.insert(0, {kit!r})
from grader.harness import audit
from student_runtime import preempt
events = []
audit.install([{trusted!r}], lambda event, at_once: events.append(dict(event, at_once=at_once)))
from student_runtime.preempt import forced_interleavings, drain_blocks
sys.path.insert(0, {student!r})
error = None
try:
    import counter
except BaseException as exc:
    error = repr(exc)
finals = []
if error is None:
    for seed in {seeds!r}:
        shared = counter.Counter()
        def work():
            for _ in range({increments}):
                shared.increment()
        threads = [threading.Thread(target=work) for _ in range({threads})]
        try:
            with forced_interleavings([counter], seed):
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
        except BaseException as exc:
            error = repr(exc)
            break
        finals.append(shared.value)
blocks = drain_blocks()
problems = preempt.instrumentation_problems(blocks, expected_blocks=len({seeds!r}), expected_caller=__file__)
sys.stdout.write("RESULT " + json.dumps({{"finals": finals, "audit": events, "problems": problems,
                                          "error": error}}) + "\\n")
"""

UNLOCKED = """
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                self.value += 1
"""  # indented like the attacks it is appended to

# Each increment() runs in a thread of its own, started by `start`; the Counter has no lock.
STARTED_ELSEWHERE = """
        import _thread
        class Counter:
            def __init__(self):
                self.value = 0
        def count_elsewhere(counter, done):
            counter.value += 1
            done.release()
        def increment(self):
            done = _thread.allocate_lock()
            done.acquire()
            {start}
            done.acquire()
        Counter.increment = increment
"""

# name: (source of counter.py, extra files of the student, expected outcome)
# outcome "neutralised": no event, no problem, and an update is lost on every schedule;
# "refused": the import fails with Python's own TypeError, the class being immutable, as the
# built-in ones are; "tampered": a tampered audit event (whatever the lost updates); "problem": an instrumentation
# problem; "suspicious": a suspicious event and the update still lost on every schedule.
ATTACKS: dict[str, tuple[str, dict[str, str], str]] = {
    "replace sys.settrace at import": ("""
        import sys
        sys.settrace = lambda function: None
    """ + UNLOCKED, {}, "neutralised"),
    "replace threading.settrace at import": ("""
        import threading
        threading.settrace = lambda function: None
    """ + UNLOCKED, {}, "neutralised"),
    "patch time.sleep, the tracer's yield": ("""
        import time
        time.sleep = lambda seconds: None
    """ + UNLOCKED, {}, "neutralised"),
    "patch random.Random, the tracer's coin": ("""
        import random
        class NeverSwitch(random.Random):
            def random(self):
                return 1.0
        random.Random = NeverSwitch
        random.random = lambda: 1.0
    """ + UNLOCKED, {}, "neutralised"),
    "patch threading.Thread.run": ("""
        import threading
        def run(self):
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        threading.Thread.run = run
    """ + UNLOCKED, {}, "refused"),
    "patch the coin's method on random.Random itself": ("""
        import random, threading
        inside = threading.local()
        coin = random.Random.random
        def careful(self):  # no switch between the read and the write; more elsewhere
            return 1.0 if getattr(inside, "busy", False) else coin(self) / 5
        random.Random.random = careful
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                inside.busy = True
                self.value += 1
                inside.busy = False
    """, {}, "refused"),
    "swap the class of a generator the student reached": ("""
        import random
        class NeverSwitch(random.Random):
            def random(self):
                return 1.0
        random.Random().__class__ = NeverSwitch  # as it would the tracer's, once reached
    """ + UNLOCKED, {}, "refused"),
    "patch the module's constants": ("""
        from student_runtime import preempt
        preempt.DEFAULT_PREEMPTION_RATE = 0.0
        preempt._YIELD_SECONDS = 0.0
    """ + UNLOCKED, {}, "neutralised"),
    "lock only while sys.gettrace() is set": ("""
        import sys, threading
        class Counter:
            def __init__(self):
                self.value = 0
                self.lock = threading.Lock()
            def increment(self):
                if sys.gettrace() is not None or threading.gettrace() is not None:
                    with self.lock:
                        self.value += 1
                else:
                    self.value += 1
    """, {}, "neutralised"),
    "racy code in a helper module": ("""
        from helper import bump
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                bump(self)
    """, {"helper.py": "def bump(counter):\n    counter.value += 1\n"}, "neutralised"),
    "racy code in an exec'd string": ("""
        namespace = {}
        exec("def bump(counter):\\n    counter.value += 1\\n", namespace)
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                namespace["bump"](self)
    """, {}, "suspicious"),
    "sys.settrace(None) at import": ("""
        import sys
        sys.settrace(None)
    """ + UNLOCKED, {}, "tampered"),
    "sys.settrace(None) inside the student's function": ("""
        import sys
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                sys.settrace(None)
                self.value += 1
    """, {}, "tampered"),
    "a profiler that clears tracing": ("""
        import sys, threading
        def clear(frame, event, arg):
            sys.settrace(None)
        threading.setprofile(clear)
    """ + UNLOCKED, {}, "tampered"),
    "f_trace = None on the student's frame": ("""
        import sys
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                sys._getframe().f_trace = None
                self.value += 1
    """, {}, "tampered"),
    "f_trace_opcodes = False through inspect": ("""
        import inspect
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                inspect.currentframe().f_trace_opcodes = False
                self.value += 1
    """, {}, "tampered"),
    "a frame taken from a traceback": ("""
        import sys
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                try:
                    raise ValueError
                except ValueError as error:
                    error.__traceback__.tb_frame.f_trace = None
                self.value += 1
    """, {}, "tampered"),
    "change the defaults of forced_interleavings": ("""
        from student_runtime.preempt import forced_interleavings
        forced_interleavings.__init__.__defaults__ = (0.0,)
    """ + UNLOCKED, {}, "tampered"),
    "read the tracer's private bindings": ("""
        from student_runtime import preempt
        preempt.drain_blocks.__defaults__[0](("drain",))
    """ + UNLOCKED, {}, "tampered"),
    "swap every forced_interleavings in sys.modules for a no-op": ("""
        import contextlib, sys
        @contextlib.contextmanager
        def forced_interleavings(*args, **kwargs):
            yield
        for module in list(sys.modules.values()):
            if getattr(module, "forced_interleavings", None) is not None:
                module.forced_interleavings = forced_interleavings
    """ + UNLOCKED, {}, "problem"),
    "replace the block's methods on the class": ("""
        from student_runtime.preempt import forced_interleavings
        forced_interleavings.__enter__ = lambda self: None
        forced_interleavings.__exit__ = lambda self, *exc: None
    """ + UNLOCKED, {}, "problem"),
    "racy code under a library file name (code.replace)": ("""
        import threading
        def bump(counter):
            counter.value += 1
        bump.__code__ = bump.__code__.replace(co_filename=threading.__file__)
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                bump(self)
    """, {}, "tampered"),
    "racy code compiled under a library file name": ("""
        import threading
        namespace = {}
        exec(compile("def bump(counter):\\n    counter.value += 1\\n", threading.__file__, "exec"), namespace)
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                namespace["bump"](self)
    """, {}, "tampered"),
    "a fresh _thread module after removing it from sys.modules": ("""
        import sys
        del sys.modules["_thread"]
        import _thread
    """ + UNLOCKED, {}, "tampered"),
    "frames of all threads from gc": ("""
        import gc
        frames = [obj for obj in gc.get_objects() if type(obj).__name__ == "frame"]
    """ + UNLOCKED, {}, "tampered"),
    "an audit hook of the student's own": ("""
        import sys
        def hook(event, args):
            if event == "object.__getattr__" and args[1] == "f_code":
                args[0].f_trace = None
        sys.addaudithook(hook)
    """ + UNLOCKED, {}, "tampered"),
    "ctypes PyEval_SetTrace": ("""
        import ctypes
        ctypes.pythonapi.PyEval_SetTrace
    """ + UNLOCKED, {}, "tampered"),
    "a debugger's tracer, started by bdb on the student's behalf": ("""
        import bdb
        class Quiet(bdb.Bdb):
            def user_line(self, frame):
                pass
        Quiet().set_trace()
        Quiet().set_continue()
    """ + UNLOCKED, {}, "tampered"),
    "the hook's rules and constants rebound": ("""
        import sys
        from grader.harness import audit
        audit._DIRECT_TAMPERING = {}
        audit._REACHING_IN = audit._FRAME_EVENTS = audit._WATCHED = frozenset()
        audit.TAMPERED = audit.SUSPICIOUS
        class Counter:
            def __init__(self):
                self.value = 0
            def increment(self):
                sys._getframe()
                self.value += 1
    """, {}, "tampered"),
    "a signal handler, which gets no frame": ("""
        import signal
        frames = []
        signal.signal(signal.SIGUSR1, lambda signum, frame: frames.append(frame))
        signal.raise_signal(signal.SIGUSR1)
        if frames != [None]:
            raise AssertionError(f"the handler was given {frames}")
    """ + UNLOCKED, {}, "suspicious"),
    "a signal handler set with the original function behind signal.signal": ("""
        import signal
        frames = []
        signal.signal.__wrapped__(signal.SIGUSR1, lambda signum, frame: frames.append(frame))
        signal.raise_signal(signal.SIGUSR1)
        if frames != [None]:
            raise AssertionError(f"the handler was given {frames}")
    """ + UNLOCKED, {}, "suspicious"),
    "a second copy of _signal, without the stand-in": ("""
        import _signal, importlib.util, signal
        fresh = importlib.util.module_from_spec(_signal.__spec__)
        fresh.signal(signal.SIGUSR1, lambda signum, frame: None)
    """ + UNLOCKED, {}, "tampered"),
    "threads started from a fresh _thread module, past the tracer": ("""
        import importlib, sys
        kept = sys.modules.pop("_thread")
        fresh = importlib.import_module("_thread")
        sys.modules["_thread"] = kept
    """ + STARTED_ELSEWHERE.format(start="fresh.start_new_thread(count_elsewhere, (self, done))"), {}, "tampered"),
    "threads started past the tracer by the wrapper's own keyword": (
        STARTED_ELSEWHERE.format(start="_thread.start_new_thread(count_elsewhere, (self, done),"
                                       " _attach=lambda ticket, function, send: function)"), {}, "problem"),
}

if sys.version_info >= (3, 12):
    ATTACKS["sys.monitoring tool"] = ("""
        import sys
        sys.monitoring.use_tool_id(3, "mine")
        sys.monitoring.free_tool_id(3)
    """ + UNLOCKED, {}, "tampered")
    ATTACKS["sys.monitoring through what its stand-in keeps"] = ("""
        import sys
        function = sys.monitoring.use_tool_id
        for cell in function.__closure__ or ():
            if getattr(cell.cell_contents, "__name__", None) == "use_tool_id":
                function = cell.cell_contents  # the original, if the stand-in kept it
        function(3, "mine")
    """ + UNLOCKED, {}, "tampered")
def run_attack(tmp_path: Path, source: str, extra: dict[str, str]) -> dict:
    trusted, student = tmp_path / "trusted", tmp_path / "student"
    trusted.mkdir()
    student.mkdir()
    (student / "counter.py").write_text(textwrap.dedent(source))
    for name, text in extra.items():
        (student / name).write_text(text)
    runner = trusted / "runner.py"
    runner.write_text(RUNNER.format(kit=str(KIT_ROOT), trusted=str(trusted), student=str(student), seeds=SEEDS,
                                    threads=THREADS, increments=INCREMENTS))
    done = subprocess.run([sys.executable, "-I", str(runner)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines and done.returncode == -signal.SIGSEGV and sys.version_info[:2] == (3, 12):
        return {"crashed": True}
    assert lines, f"the runner printed no result:\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_attack_is_neutralised_or_caught(tmp_path, attack):
    source, extra, outcome = ATTACKS[attack]
    result = run_attack(tmp_path, source, extra)
    if result.get("crashed"):
        # CPython 3.12's sys.settrace(None) in one thread while another traces kills the
        # interpreter: the sandbox's call then fails, so the attack earns nothing either.
        assert outcome == "tampered", f"{attack} crashed the interpreter"
    else:
        assert_outcome(result, outcome)


def assert_outcome(result: dict, outcome: str) -> None:
    statuses = {event["status"] for event in result["audit"]}
    every_schedule_lost_an_update = len(result["finals"]) == len(SEEDS) and all(
        final < THREADS * INCREMENTS for final in result["finals"])
    if outcome == "neutralised":
        assert result["error"] is None and not result["audit"] and not result["problems"], result
        assert every_schedule_lost_an_update, result
    elif outcome == "suspicious":
        assert statuses == {SUSPICIOUS} and not result["problems"], result
        assert every_schedule_lost_an_update, result
    elif outcome == "refused":
        error = result["error"] or ""
        assert error.startswith("TypeError") and "mutable type" in error and not result["finals"], result
    elif outcome == "tampered":
        assert TAMPERED in statuses, result
    else:
        assert result["problems"], result


def test_a_correct_counter_leaves_no_event_and_no_problem(tmp_path):
    locked = """
        import threading
        class Counter:
            def __init__(self):
                self.value = 0
                self.lock = threading.Lock()
            def increment(self):
                with self.lock:
                    self.value += 1
    """
    result = run_attack(tmp_path, locked, {})
    assert result == {"finals": [THREADS * INCREMENTS] * len(SEEDS), "audit": [], "problems": [], "error": None}


def test_library_code_working_for_the_student_is_not_the_students_doing(tmp_path):
    # Formatting a traceback, logging and a thread pool reach frames and start threads on the
    # student's behalf: none of that is an event.
    busy = """
        import concurrent.futures, logging, threading, traceback
        logging.basicConfig(level=logging.INFO)
        class Counter:
            def __init__(self):
                self.value = 0
                self.lock = threading.Lock()
            def increment(self):
                with self.lock:
                    self.value += 1
                    if self.value == 1:
                        try:
                            raise ValueError("first")
                        except ValueError:
                            traceback.format_exc()
                            logging.getLogger("counter").exception("first increment")
                        with concurrent.futures.ThreadPoolExecutor(2) as pool:
                            list(pool.map(abs, [-1, -2]))
    """
    result = run_attack(tmp_path, busy, {})
    assert result["audit"] == [] and result["problems"] == [], result
    assert result["finals"] == [THREADS * INCREMENTS] * len(SEEDS)


def test_evidence_names_the_students_file_and_line(tmp_path):
    source = "import sys\n\n\nsys.settrace(None)\n" + textwrap.dedent(UNLOCKED)
    result = run_attack(tmp_path, source, {})
    assert {"status": TAMPERED, "evidence": "sys.settrace() called from counter.py:4", "at_once": True} \
        in result["audit"]


def test_findings_from_turns_events_into_findings():
    events = [{"status": TAMPERED, "evidence": "sys.settrace() called from counter.py:4"},
              {"status": SUSPICIOUS, "evidence": "code run with exec()/eval() from counter.py:9"},
              {"status": TAMPERED, "evidence": "sys.settrace() called from counter.py:4"}]
    assert findings_from(events) == [Finding(TAMPERED, "sys.settrace() called from counter.py:4"),
                                     Finding(SUSPICIOUS, "code run with exec()/eval() from counter.py:9")]


def test_a_forged_event_is_itself_evidence_of_tampering():
    [finding] = findings_from([{"status": "clean", "evidence": "all good"}])
    assert finding.status == TAMPERED


FREEZER = """
import abc, enum, json, random, sys, threading
sys.path.insert(0, {kit!r})
from grader.harness.audit import freeze_classes
class Mine:
    pass
class Later(abc.ABC):
    pass
frozen = freeze_classes([threading, random, enum, abc])
def refused(action):
    try:
        action()
    except TypeError as error:
        return "mutable type" in str(error)  # "immutable type 'Event'", "only ... for mutable types"
    return False
class Worker(threading.Thread):  # an honest subclass, made after the freeze
    def run(self):
        self.ran = True
Worker.extra = 1
worker = Worker()
worker.start()
worker.join()
Mine.extra = 1
Later.extra = 1
class Colour(enum.Enum):
    RED = 1
print(json.dumps({{
    "frozen": frozen,
    "class written": not refused(lambda: setattr(random.Random, "random", lambda self: 1.0)),
    "class attribute deleted": not refused(lambda: delattr(threading.Event, "wait")),
    "base written": not refused(lambda: setattr(threading.Condition, "wait_for", None)),
    "instance class swapped": not refused(lambda: setattr(threading.Event(), "__class__", Mine)),
    "honest subclass works": worker.ran and Worker.extra == 1,
    "other modules untouched": Mine.extra == 1 and Later.extra == 1 and Colour.RED.value == 1,
}}))
"""


def test_frozen_classes_refuse_writes_and_honest_subclasses_still_work(tmp_path):
    script = tmp_path / "freezer.py"
    script.write_text(FREEZER.format(kit=str(KIT_ROOT)))
    done = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result.pop("frozen") > 10
    assert result == {"class written": False, "class attribute deleted": False, "base written": False,
                      "instance class swapped": False, "honest subclass works": True,
                      "other modules untouched": True}
