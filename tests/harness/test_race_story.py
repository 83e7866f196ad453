"""The race story: a failed race check tells which interleaving lost the update, in the student's
own lines, from what the tracer recorded, and only about the student's files."""

from __future__ import annotations

import importlib.util
import re
import textwrap
import threading
from pathlib import Path

import pytest

from student_runtime.preempt import drain_blocks, forced_interleavings
from student_runtime.race_story import first_story, tell

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
    engine_send = forced_interleavings.telling_pause.__defaults__[0]
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
])
def test_the_story_in_words(changes, story):
    assert tell({**GOLDEN_FACTS, **changes}) == story


@pytest.mark.parametrize("forged", [
    None, "a story", {}, {**GOLDEN_FACTS, "thread": "Thread-1"}, {**GOLDEN_FACTS, "thread": -1},
    {**GOLDEN_FACTS, "updates": []}, {**GOLDEN_FACTS, "kind": "anything"},
    {**GOLDEN_FACTS, "updates": [{**GOLDEN_FACTS["updates"][0], "runs": 0}]},
    {**GOLDEN_FACTS, "line_run": {"file": "/etc/passwd", "line": "1", "source": ""}},
    {**GOLDEN_FACTS, "kind": "after a read"},  # a check without the write that acted on it
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
