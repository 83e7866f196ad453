"""The race story: a failed race check tells which interleaving lost the update, in the student's
own lines, from what the tracer recorded, and only about the student's files."""

from __future__ import annotations

import importlib.util
import re
import textwrap
import threading
import time
from pathlib import Path

import pytest

from student_runtime.plugin import NOT_A_RACE, Schedules
from student_runtime.preempt import drain_blocks, forced_interleavings
from student_runtime.race_story import IN_FLIGHT, LOST_UPDATE, OUT_OF_ORDER, first_story, tell

RACY = """\
class Counter:
    def __init__(self):
        self.value = 0
    def increment(self, amount=1):
        self.value += amount
"""
LOCKED = """\
import threading
class Counter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()
    def increment(self, amount=1):
        with self.lock:
            self.value += amount
"""
READ_THEN_WRITE = """\
class Counter:
    def __init__(self):
        self.value = 0
    def increment(self, amount=1):
        current = self.value
        self.value = current + amount
"""
UNLOCKED_TOTAL = """\
import threading
class Bank:
    def __init__(self):
        self.balances = {"a": 1000, "b": 1000}
        self.lock = threading.Lock()
    def transfer(self, amount):
        with self.lock:
            self.balances["a"] -= amount
            self.balances["b"] += amount
    def total(self):
        return sum(self.balances.values())
"""
TOTAL_ONE_ACCOUNT_AT_A_TIME = UNLOCKED_TOTAL.replace("""        return sum(self.balances.values())""", """\
        total = 0
        for name in ("a", "b"):
            with self.lock:
                total += self.balances[name]
        return total""")
# 04's flag_set_after_event: stop() wakes the thread (a call into the library) before it sets the flag.
FLAG_SET_AFTER_EVENT = """\
import threading
class Heartbeat:
    def __init__(self, interval, callback):
        self.interval, self._callback = interval, callback
        self._wake_up, self._stopping = threading.Event(), False
        self._thread = threading.Thread(target=self._beat_until_stopped)
    def stop(self):
        self._wake_up.set()
        self._stopping = True
        self._thread.join()
    def _beat_until_stopped(self):
        while True:
            self._wake_up.wait(self.interval)
            if self._stopping:
                return
            self._callback()
"""
# 05's join_waits_for_empty_queue and results_in_completion_order: both take tasks from a queue.
POOL = """\
import queue, threading, time
class ThreadPool:
    def __init__(self, n_workers):
        self._tasks, self._results, self._lock = queue.Queue(), [], threading.Lock()
        self._workers = [threading.Thread(target=self._work) for _ in range(n_workers)]
        for worker in self._workers:
            worker.start()
    def submit(self, fn, *args):
        self._results.append(None)
        self._tasks.put((len(self._results) - 1, fn, args))
    def join(self):
        while not self._tasks.empty():
            time.sleep(0.01)
        results, self._results = self._results, []
        return results
    def shutdown(self):
        for _ in self._workers:
            self._tasks.put(None)
        for worker in self._workers:
            worker.join()
    def _work(self):
        while (task := self._tasks.get()) is not None:
            index, fn, args = task
            try:
                self._results[index] = fn(*args)
            except Exception as error:
                self._results[index] = error
            finally:
                self._tasks.task_done()
        self._tasks.task_done()
"""
IN_COMPLETION_ORDER = POOL.replace("""\
        self._results.append(None)
        self._tasks.put((len(self._results) - 1, fn, args))""", """\
        self._tasks.put((fn, args))""").replace("""\
        while not self._tasks.empty():
            time.sleep(0.01)
        results, self._results = self._results, []""", """\
        self._tasks.join()
        with self._lock:
            results, self._results = self._results, []""").replace("""\
            index, fn, args = task
            try:
                self._results[index] = fn(*args)
            except Exception as error:
                self._results[index] = error
            finally:
                self._tasks.task_done()""", """\
            fn, args = task
            result = fn(*args)
            with self._lock:
                self._results.append(result)
            self._tasks.task_done()""")
TIMES = r"(once|twice|\d+ times)"
UPDATES = r"(that update|those \d+ updates)"


def load(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def race(module, seed: int, targets=None, threads: int = 4, increments: int = 200) -> tuple[int, forced_interleavings]:
    counter = module.Counter()

    def work():
        for _ in range(increments):
            counter.increment()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    with forced_interleavings([module] if targets is None else targets, seed) as block:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    return counter.value, block


def audit(module, seed: int) -> tuple[list[int], forced_interleavings]:
    """One thread transfers while another adds up the balances again and again."""
    bank, totals, done = module.Bank(), [], threading.Event()

    def pay():
        for _ in range(300):
            bank.transfer(1)
        done.set()

    def add_up():
        while not done.is_set():
            totals.append(bank.total())

    workers = [threading.Thread(target=pay), threading.Thread(target=add_up)]
    with forced_interleavings([module], seed) as block:
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    return [total for total in totals if total != 2000], block


def first_failure(check, seeds: int = 40):
    """The block of the first of `seeds` schedules under which `check(seed)` goes wrong: the race
    checks try several schedules too, and these mutants go wrong on some of them only."""
    for seed in range(seeds):
        went_wrong, block = check(seed)
        if went_wrong:
            return block
    raise AssertionError(f"no schedule of {seeds} made it go wrong")


def extra_beat(module, seed: int) -> tuple[bool, forced_interleavings]:
    """Start a heartbeat and stop it at once, as 04's race check does: did it beat?"""
    calls = []
    beat = module.Heartbeat(0.3, lambda: calls.append(1))
    with forced_interleavings([module], seed, rate=0.5) as block:
        beat._thread.start()
        time.sleep(0.005)
        beat.stop()
    return bool(calls), block


def forty_results(module, seed: int) -> tuple[list, forced_interleavings]:
    """What join() of a pool of 4 returns after 40 tasks, as 05's race check asks."""
    with forced_interleavings([module], seed) as block:
        pool = module.ThreadPool(4)
        for index in range(40):
            pool.submit(str, index)
        results = pool.join()
        pool.shutdown()
    return results, block


@pytest.fixture(autouse=True)
def fresh_registry():
    drain_blocks()
    yield
    drain_blocks()


def test_the_story_of_a_lost_update_names_the_line_and_both_threads(tmp_path):
    module = load(tmp_path, "racy_counter", RACY)
    total, block = race(module, seed=1)
    assert total < 800
    story = block.story()
    match = re.fullmatch(
        rf"Thread-(\d) was paused in the middle of `racy_counter.py:5 self.value \+= amount`, between its read and"
        rf" its write; meanwhile Thread-(\d) ran that line {TIMES}(, Thread-\d ran it {TIMES})*( and Thread-\d ran"
        rf" it {TIMES})?; Thread-\1 then resumed and wrote back a value it had read before {UPDATES}\.", story or "")
    assert match, story
    assert match[1] != match[2], "the paused thread is not the one that ran meanwhile"
    assert block.telling_pause()["line_run"] == {"file": "racy_counter.py", "line": 5,
                                                 "source": "self.value += amount"}


def test_a_write_of_a_value_read_on_an_earlier_line_is_told_with_both_lines(tmp_path):
    module = load(tmp_path, "two_step_counter", READ_THEN_WRITE)
    total, block = race(module, seed=2)
    assert total < 800
    assert re.fullmatch(
        rf"Thread-(\d) ran `two_step_counter.py:5 current = self.value`, then was paused in"
        rf" `two_step_counter.py:6 self.value = current \+ amount`, before its write; meanwhile Thread-\d ran that"
        rf" line {TIMES}.*; Thread-\1 then resumed and wrote a value worked out from what it had read before"
        rf" {UPDATES}\.", block.story() or ""), block.story()


def test_code_that_holds_its_lock_has_no_story(tmp_path):
    module = load(tmp_path, "locked_counter", LOCKED)
    for seed in range(3):
        total, block = race(module, seed)
        assert total == 800
        assert block.story() is None


def test_only_the_targets_files_are_told_about(tmp_path):
    racy = load(tmp_path, "helper_counter", RACY)
    elsewhere = load(tmp_path, "the_target", "X = 1\n")
    total, block = race(racy, seed=3, targets=[elsewhere])
    assert total < 800, "the helper is traced all the same"
    assert block.story() is None


def test_the_story_is_told_once_the_block_has_ended(tmp_path):
    module = load(tmp_path, "racy_counter", RACY)
    counter = module.Counter()
    with forced_interleavings([module], 4) as block:
        workers = [threading.Thread(target=lambda: [counter.increment() for _ in range(100)]) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        assert block.story() is None
    assert block.story() is not None


def test_a_long_run_keeps_a_bounded_record_and_still_tells_its_story(tmp_path):
    module = load(tmp_path, "racy_counter", RACY)
    engine_send = forced_interleavings.__exit__.__defaults__[0]
    total, block = race(module, seed=5, increments=5000)
    assert total < 20000
    clock, lines, paused, pauses = engine_send(("tape", block._ticket))
    assert clock > 2 * len(lines) and paused > len(pauses), "the run outgrew the record"
    assert block.story() is not None


def test_the_stories_of_old_blocks_are_let_go(tmp_path):
    module = load(tmp_path, "racy_counter", RACY)
    first = race(module, seed=6, threads=2, increments=50)[1]
    for seed in range(7, 12):
        race(module, seed, threads=2, increments=50)
    assert first.telling_pause() is None


def test_a_reader_that_saw_a_change_half_done_is_told_with_both_halves(tmp_path):
    module = load(tmp_path, "unlocked_total", UNLOCKED_TOTAL)
    wrong, block = audit(module, seed=1)
    assert wrong
    assert re.fullmatch(
        r"Thread-1 ran `unlocked_total.py:8 self.balances\[\"a\"\] -= amount`, then was paused in the middle of that"
        r" change, before `unlocked_total.py:9 self.balances\[\"b\"\] \+= amount`; meanwhile Thread-2 ran"
        rf" `unlocked_total.py:11 return sum\(self.balances.values\(\)\)` {TIMES} and saw it half done \(in flight\);"
        r" Thread-1 then resumed and finished it.", block.story(IN_FLIGHT) or ""), block.story(IN_FLIGHT)
    assert block.story() is None, "a lost update is not what went wrong, and it is what a story tells by default"


def test_a_reader_that_read_across_a_change_is_told_with_its_reads(tmp_path):
    module = load(tmp_path, "one_at_a_time_total", TOTAL_ONE_ACCOUNT_AT_A_TIME)
    wrong, block = audit(module, seed=1)
    assert wrong
    withdrawal = rf"`one_at_a_time_total.py:8 self.balances\[\"a\"\] -= amount` {TIMES}"
    deposit = rf"`one_at_a_time_total.py:9 self.balances\[\"b\"\] \+= amount` {TIMES}"
    assert re.fullmatch(
        r"Thread-2 ran `one_at_a_time_total.py:14 total \+= self.balances\[name\]`, then was paused in the middle of"
        rf" its reads; meanwhile Thread-1 ran ({withdrawal}|{deposit})( and ({withdrawal}|{deposit}))?; Thread-2 then"
        rf" resumed and ran that line again, putting together values read before and after {UPDATES}\.",
        block.story(IN_FLIGHT) or ""), block.story(IN_FLIGHT)


def test_a_lost_update_is_not_told_as_a_change_in_flight(tmp_path):
    module = load(tmp_path, "racy_counter", RACY)
    total, block = race(module, seed=1)
    assert total < 800
    assert block.telling_pause(IN_FLIGHT) is None
    assert block.telling_pause(LOST_UPDATE + IN_FLIGHT)["kind"] == "same line"


def test_a_change_begun_by_a_call_into_the_library_is_told_from_the_students_lines(tmp_path):
    module = load(tmp_path, "flag_set_after_event", FLAG_SET_AFTER_EVENT)
    block = first_failure(lambda seed: extra_beat(module, seed))
    assert re.fullmatch(
        r"The main thread ran `flag_set_after_event.py:8 self._wake_up.set\(\)`, then was paused in the middle of that"
        r" change, before `flag_set_after_event.py:9 self._stopping = True`; meanwhile Thread-1 ran"
        rf" (`flag_set_after_event.py:13 self._wake_up.wait\(self.interval\)` {TIMES} and )?"  # if it came in late
        rf"`flag_set_after_event.py:14 if self._stopping:` {TIMES} and saw it half done \(in flight\); the main thread"
        r" then resumed and finished it.", block.story(("half done",)) or ""), block.story(("half done",))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # a worker's store fails
def test_a_task_taken_but_not_yet_stored_is_told_with_what_join_saw(tmp_path):
    module = load(tmp_path, "pool", POOL)
    block = first_failure(lambda seed: (lambda results, block: (None in results, block))(*forty_results(module, seed)))
    take = r"`pool.py:22 while \(task := self._tasks.get\(\)\) is not None:`"
    check = r"`pool.py:12 while not self._tasks.empty\(\):`"
    swap = r"`pool.py:14 results, self._results = self._results, \[\]`"
    assert re.fullmatch(
        rf"Thread-([1-4]) ran {take}, then was paused in the middle of that change, before `pool.py:25"
        rf" self._results\[index\] = fn\(\*args\)`; meanwhile the main thread ran ({check} {TIMES} and )?{swap} once"
        r" and saw it half done \(in flight\); Thread-\1 then resumed and finished it.",
        block.story((*LOST_UPDATE, "half done")) or ""), block.story((*LOST_UPDATE, "half done"))


def test_results_handed_on_out_of_order_are_told_with_the_worker_that_overtook(tmp_path):
    module = load(tmp_path, "pool", IN_COMPLETION_ORDER)
    block = first_failure(lambda seed: (lambda results, block: (results != sorted(results, key=int), block))(
        *forty_results(module, seed)))
    take = r"`pool.py:21 while \(task := self._tasks.get\(\)\) is not None:`"
    hand = r"`pool.py:25 self._results.append\(result\)`"
    assert re.fullmatch(
        rf"Thread-([1-4]) ran {take}, then was paused in the middle of that work, before {hand}; meanwhile"
        rf" Thread-[1-4] ran {take} {TIMES} and {hand} {TIMES}.*; Thread-\1 then resumed and ran the second line after"
        r" (it|them), the reverse of the order in which they ran the first.", block.story(OUT_OF_ORDER) or ""), (
        block.story(OUT_OF_ORDER))


def test_a_failure_without_forced_switches_has_no_story_and_no_replay():
    schedules = Schedules(7, "exercises/02_lock/test_bank.py::test_x", None)
    assert schedules.failure("wrong.", without_switches=True) == f"wrong. {NOT_A_RACE}"
    assert schedules.failure("wrong.") == (
        'wrong. (to see these thread switches again, run: python -m pytest'
        ' "exercises/02_lock/test_bank.py::test_x" --seed 7)')


def test_names_the_student_gives_threads_change_nothing(tmp_path):
    module = load(tmp_path, "renaming_counter", RACY.replace(
        "        self.value += amount", "        threading.current_thread().name = 'Thread-99'\n"
        "        self.value += amount").replace("class Counter:", "import threading\nclass Counter:"))
    total, block = race(module, seed=1)
    assert total < 800
    assert "Thread-99" not in block.story()
    assert re.match(r"Thread-[1-4] was paused", block.story())


GOLDEN_FACTS = {
    "kind": "same line", "thread": 2,
    "line_run": {"file": "counter.py", "line": 14, "source": "self._value += amount"},
    "read_in": None, "acted_in": None,
    "updates": [{"thread": 3, "file": "counter.py", "line": 14, "source": "self._value += amount", "runs": 5}],
}


@pytest.mark.parametrize(("changes", "story"), [
    ({}, "Thread-2 was paused in the middle of `counter.py:14 self._value += amount`, between its read and its"
         " write; meanwhile Thread-3 ran that line 5 times; Thread-2 then resumed and wrote back a value it had read"
         " before those 5 updates."),
    ({"updates": [{"thread": 3, "file": "counter.py", "line": 14, "source": "self._value += amount", "runs": 1},
                  {"thread": 0, "file": "counter.py", "line": 14, "source": "self._value += amount", "runs": 2}]},
     "Thread-2 was paused in the middle of `counter.py:14 self._value += amount`, between its read and its write;"
     " meanwhile Thread-3 ran that line once and the main thread ran it twice; Thread-2 then resumed and wrote back"
     " a value it had read before those 3 updates."),
    ({"read_in": {"file": "counter.py", "line": 13, "source": "current = self._value"},
      "line_run": {"file": "counter.py", "line": 14, "source": "self._value = current + amount"},
      "updates": [{"thread": 1, "file": "counter.py", "line": 14, "source": "self._value = current + amount",
                   "runs": 1}]},
     "Thread-2 ran `counter.py:13 current = self._value`, then was paused in `counter.py:14 self._value = current +"
     " amount`, before its write; meanwhile Thread-1 ran that line once; Thread-2 then resumed and wrote a value"
     " worked out from what it had read before that update."),
    ({"kind": "after a read", "line_run": {"file": "bank.py", "line": 20, "source": "if self._balances[src] < amount:"},
      "acted_in": {"file": "bank.py", "line": 23, "source": "self._balances[src] -= amount"},
      "updates": [{"thread": 1, "file": "bank.py", "line": 23, "source": "self._balances[src] -= amount", "runs": 2}]},
     "Thread-2 was paused in the middle of `bank.py:20 if self._balances[src] < amount:`, right after its read;"
     " meanwhile Thread-1 ran `bank.py:23 self._balances[src] -= amount` twice; Thread-2 then resumed and ran"
     " `bank.py:23 self._balances[src] -= amount` with a value it had read before those 2 updates."),
    ({"kind": "half done", "line_run": {"file": "bank.py", "line": 24, "source": "self._balances[dst] += amount"},
      "acted_in": {"file": "bank.py", "line": 23, "source": "self._balances[src] -= amount"},
      "updates": [{"thread": 3, "file": "bank.py", "line": 28, "source": "return sum(self._balances.values())",
                   "runs": 4}]},
     "Thread-2 ran `bank.py:23 self._balances[src] -= amount`, then was paused in the middle of that change, before"
     " `bank.py:24 self._balances[dst] += amount`; meanwhile Thread-3 ran `bank.py:28 return"
     " sum(self._balances.values())` 4 times and saw it half done (in flight); Thread-2 then resumed and finished it."),
    ({"kind": "read across", "line_run": {"file": "bank.py", "line": 30, "source": "with self._lock:"},
      "read_in": {"file": "bank.py", "line": 31, "source": "total += self._balances[name]"},
      "acted_in": {"file": "bank.py", "line": 31, "source": "total += self._balances[name]"},
      "updates": [{"thread": 1, "file": "bank.py", "line": 23, "source": "self._balances[src] -= amount", "runs": 1},
                  {"thread": 1, "file": "bank.py", "line": 24, "source": "self._balances[dst] += amount", "runs": 1}]},
     "Thread-2 ran `bank.py:31 total += self._balances[name]`, then was paused in the middle of its reads; meanwhile"
     " Thread-1 ran `bank.py:23 self._balances[src] -= amount` once and `bank.py:24 self._balances[dst] += amount`"
     " once; Thread-2 then resumed and ran that line again, putting together values read before and after those 2"
     " updates."),
    ({"kind": "read across", "read_in": {"file": "bank.py", "line": 30, "source": "first = self._balances[a]"},
      "acted_in": {"file": "bank.py", "line": 31, "source": "second = self._balances[b]"},
      "updates": [{"thread": 1, "file": "bank.py", "line": 23, "source": "self._balances[src] -= amount", "runs": 1}]},
     "Thread-2 ran `bank.py:30 first = self._balances[a]`, then was paused in the middle of its reads; meanwhile"
     " Thread-1 ran `bank.py:23 self._balances[src] -= amount` once; Thread-2 then resumed and ran `bank.py:31 second"
     " = self._balances[b]`, putting together values read before and after that update."),
    ({"kind": "overtaken", "read_in": {"file": "pool.py", "line": 57, "source": "task = self._tasks.get()"},
      "line_run": {"file": "pool.py", "line": 64, "source": "self._results.append(result)"},
      "updates": [{"thread": 3, "file": "pool.py", "line": 57, "source": "task = self._tasks.get()", "runs": 1},
                  {"thread": 3, "file": "pool.py", "line": 64, "source": "self._results.append(result)", "runs": 1}]},
     "Thread-2 ran `pool.py:57 task = self._tasks.get()`, then was paused in the middle of that work, before"
     " `pool.py:64 self._results.append(result)`; meanwhile Thread-3 ran `pool.py:57 task = self._tasks.get()` once"
     " and `pool.py:64 self._results.append(result)` once; Thread-2 then resumed and ran the second line after it, the"
     " reverse of the order in which they ran the first."),
])
def test_the_story_in_words(changes, story):
    assert tell({**GOLDEN_FACTS, **changes}) == story


@pytest.mark.parametrize("forged", [
    None, "a story", {}, {**GOLDEN_FACTS, "thread": "Thread-1"}, {**GOLDEN_FACTS, "thread": -1},
    {**GOLDEN_FACTS, "updates": []}, {**GOLDEN_FACTS, "kind": "anything"},
    {**GOLDEN_FACTS, "updates": [{**GOLDEN_FACTS["updates"][0], "runs": 0}]},
    {**GOLDEN_FACTS, "line_run": {"file": "/etc/passwd", "line": "1", "source": ""}},
    {**GOLDEN_FACTS, "kind": "after a read"},  # a check without the write that acted on it
    {**GOLDEN_FACTS, "kind": "half done"},  # a change without its first half
    {**GOLDEN_FACTS, "kind": "read across", "acted_in": GOLDEN_FACTS["line_run"]},  # without its first read
    {**GOLDEN_FACTS, "kind": "overtaken"},  # without the line where it took its work
])
def test_facts_that_are_not_a_recorded_pause_tell_nothing(forged):
    assert tell(forged) is None


def test_what_the_facts_say_is_cut_short_and_cannot_break_the_quoting():
    story = tell({**GOLDEN_FACTS, "line_run": {"file": "counter.py", "line": 14, "source": "x`y " * 200}})
    assert story is not None and "x'y" in story and "`" not in story.split("`counter.py:14 ")[1].split("`")[0]
    assert len(story) < 600


# -- the hidden suite's story: facts from the sandbox's child, told by the judging process ------

def test_the_hidden_suite_tells_only_stories_about_the_students_module():
    line = {"file": "counter.py", "line": 14, "source": "self._value += amount"}
    facts = {"kind": "same line", "thread": 1, "line_run": line, "read_in": None, "acted_in": None,
             "updates": [{**line, "thread": 2, "runs": 3}]}
    assert "counter.py:14 self._value += amount" in first_story("counter.py", [None, facts])
    elsewhere = {**facts, "updates": [{**line, "file": "grader.py", "thread": 2, "runs": 3}]}
    assert first_story("counter.py", [elsewhere, "forged", {"kind": 1}, {**facts, "updates": "x"}]) is None


def test_a_hidden_race_check_that_fails_tells_the_story(tmp_path):
    from grader.manifest import get_exercise
    from grader.runner import run_hidden_suites

    exercise = get_exercise("01")
    submission = tmp_path / "student"
    exercise.module_file(submission).parent.mkdir(parents=True)
    exercise.module_file(submission).write_text(RACY.replace("self.value", "self._value").replace(
        "class Counter:", "class Counter:\n    value = property(lambda self: self._value)", 1)
        + "\ndef count_in_threads(n, k):\n    raise NotImplementedError\n")
    run = run_hidden_suites([exercise], submission, select="no_update_is_ever_lost and shared_counter")
    [test] = [t for e in run.report["exercises"] for g in e["groups"] for t in g["tests"]]
    assert test["status"] == "fail"
    assert re.search(r"Thread-\d was paused in the middle of `counter\.py:\d+ self\._value \+= amount`",
                     test["message"]), test["message"]


@pytest.mark.parametrize(("exercise_id", "mutant", "select", "told"), [
    ("04", "flag_set_after_event", "stop_never_adds_a_beat",
     r"The main thread ran `heartbeat\.py:\d+ self\._wake_up\.set\(\)`, then was paused in the middle of that change,"
     r" before `heartbeat\.py:\d+ self\._stopping = True`; meanwhile Thread-\d ran (`heartbeat\.py:\d+"
     r" self\._wake_up\.wait\(self\.interval\)` (once|twice|\d+ times) and )?`heartbeat\.py:\d+ if self\._stopping:`"
     r" (once|twice|\d+ times) and saw it half done"),
    ("05", "results_in_completion_order", "no_result_is_lost",
     r"Thread-(\d) ran `pool\.py:\d+ while \(task := self\._tasks\.get\(\)\) is not None:`, then was paused in the"
     r" middle of that work, before `pool\.py:\d+ self\._results\.append\(result\)`; meanwhile .*; Thread-\1 then"
     r" resumed and ran the second line after (it|them)"),
])
def test_a_hidden_race_check_tells_a_story_the_library_hides_part_of(tmp_path, exercise_id, mutant, select, told):
    from grader.manifest import KIT_ROOT, get_exercise
    from grader.runner import run_hidden_suites

    exercise = get_exercise(exercise_id)
    submission = tmp_path / "student"
    exercise.module_file(submission).parent.mkdir(parents=True)
    mutant_file = KIT_ROOT / "tests" / exercise.id / "mutants" / f"{mutant}.py"
    exercise.module_file(submission).write_text(mutant_file.read_text())
    run = run_hidden_suites([exercise], submission, select=select)
    [test] = [t for e in run.report["exercises"] for g in e["groups"] for t in g["tests"]]
    assert test["status"] == "fail"
    assert re.search(told, test["message"]), test["message"]
