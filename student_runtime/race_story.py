"""The race story: the interleaving that lost an update, told in the student's own source lines.

A race check that fails says *that* an update was lost; the tracer of `preempt` also knows
*where*: it records every line the traced threads run and every forced switch, in bounded rings.
This module turns that record into one sentence a student can check against their code:

    Thread-2 was paused in the middle of `counter.py:14 self._value += amount`, between its
    read and its write; meanwhile Thread-3 ran that line 5 times; Thread-2 then resumed and
    wrote back a value it had read before those 5 updates.

- `telling_pause(tape, files) -> dict | None`: picks, from a block's record, the pause that best
  explains a lost update in the given files, as plain data (ints and short strings), so that a
  process that ran the student's code can hand it to one that did not.
- `tell(facts) -> str | None`: the sentence. It checks the facts' shape and length and formats
  nothing else, so that facts from an untrusted process cannot make it read files or grow.
- `first_story(module, pauses)`: what a hidden suite shows, from facts its sandbox's child
  reported: the first story that quotes the student's file only.

Which pause tells the story, best first: a thread paused before a write that will not read the
value again (after reading it in the same line, or having computed it earlier), while other
threads ran that same line; then while they ran another line writing the same variable; then a
thread paused right after a read (a check) while other threads wrote what it had read. Those are
the kinds LOST_UPDATE, told by default. A check that failed because a reader saw a change in
flight asks for IN_FLIGHT instead: a thread paused between two reads it puts together while
others wrote what it read ("read across"); then a thread paused between the two writes of one
change (a transfer's withdrawal and its deposit) while others read what it was changing ("half
done"). A change whose first half is a call into the library, which the tracer does not see inside
(`self._tasks.get()`, `self._event.set()`), is told from the student's line of that call, with
the lines of other code that looked at either half meanwhile ("half done" too). A check that
failed on results handed on in the wrong order asks for OUT_OF_ORDER: a thread paused between
taking work (a call whose result it keeps) and handing it on (its next call on a shared object),
while another thread ran both lines ("overtaken"). Variables are matched by name (`self._value`
by `_value`, any `x[k]` by the brackets and, for a change in flight, by the name of the container
too), from the bytecode; calls that only look (`empty()`, `wait()`, `join()`) change nothing.
Once a pause tells a story, only a few earlier ones are looked at for a plainer one, to bound the
cost; among stories of one kind, the latest pause's is told.

The facts name lines by role: `line_run` (the paused line), `read_in` (an earlier line of the
paused thread: its read, or for "read across" its first read), `acted_in` (a later line: the
write a check led to, the second read of "read across", or for "half done" the first half of the
change, already written or called), `updates` (what the other threads ran meanwhile); for
"overtaken", `read_in` is where the work was taken and `line_run` where it is handed on.
"""

from __future__ import annotations

import dis
import linecache
import os
from collections import Counter
from collections.abc import Iterable
from types import CodeType
from typing import Any

# Recorded line: (thread, code, line), line 0 at the start of each call. Recorded pause:
# (thread, code, line, offset, began, resumed),
# where began and resumed are the line clock's values before and after the pause.
Tape = tuple[int, list[Any], int, list[Any]]  # (line clock, line ring, pause count, pause ring)
Runs = Counter[tuple[int, CodeType, int]]  # (other thread, code, line) -> how often it ran during a pause

_READS = {"LOAD_ATTR": "attr", "LOAD_GLOBAL": "name", "LOAD_NAME": "name", "LOAD_DEREF": "name",
          "LOAD_CLASSDEREF": "name", "BINARY_SUBSCR": "item", "LOAD_METHOD": "attr"}
_WRITES = {"STORE_ATTR": "attr", "STORE_GLOBAL": "name", "STORE_NAME": "name", "STORE_DEREF": "name",
           "STORE_SUBSCR": "item"}
_SAME_LINE, _OTHER_LINE, _AFTER_A_READ, _AFTER_A_READ_ELSEWHERE, _READ_ACROSS = 3, 2, 1, 0.5, 0
_HALF_DONE, _HALF_DONE_BY_A_CALL, _OVERTAKEN = -1, -2, -3
# The plainest story, which none beats but by a larger count: between a line's read and write,
# while one other thread ran that line. The first one found, from the latest pause, is told.
_PLAINEST = (_SAME_LINE, True, -1)
LOST_UPDATE = ("same line", "other line", "after a read")  # the kinds of story of a lost update
IN_FLIGHT = ("half done", "read across")  # the kinds of story of a change seen in flight
OUT_OF_ORDER = ("overtaken",)  # the kind of story of work handed back in another order than it was taken
_KINDS = LOST_UPDATE + IN_FLIGHT + OUT_OF_ORDER
# Methods of the library's objects that look and change nothing: a call of one is no half of a change.
_CHECKS = frozenset({"empty", "full", "qsize", "locked", "wait", "wait_for", "join", "count", "index", "copy",
                     "keys", "values", "items", "__len__", "__contains__"})
_MORE_PAUSES = 64  # earlier pauses looked at once one tells a story, for a plainer one
_MAX_SOURCE = 120  # characters of a source line quoted in a story
_MAX_UPDATES = 3  # lines of other threads a story names
_NEARBY_LINES = 8  # lines of the paused thread searched, before and after the pause, for its read and write
_LOOK_AROUND = 256  # recorded lines searched for them


def telling_pause(tape: Tape, files: Iterable[str], kinds: Iterable[str] = LOST_UPDATE) -> dict[str, Any] | None:
    """The pause that best explains a lost update in `files` (or, with `kinds` IN_FLIGHT, a
    change seen in flight: a check that failed on a reader asks for it), as plain data, or None
    when no recorded pause does (the code held its locks, or the record was overwritten)."""
    wanted = frozenset(kinds)
    clock, lines, paused, pauses = tape
    in_files = _FileTest(frozenset(os.path.realpath(file) for file in files))
    kept_from, mask = max(0, clock - len(lines)), len(lines) - 1  # the ring's size is a power of two
    bytecode = _Analyses()
    best: tuple[tuple[int, ...], dict[str, Any]] | None = None
    left = len(pauses)  # pauses still looked at: a few more once one tells a story
    for at in range(paused - 1, max(0, paused - len(pauses)) - 1, -1):  # latest first
        if left == 0:
            break
        pause = pauses[at % len(pauses)]
        if pause is None:
            continue
        thread, code, line, offset, began, resumed = pause
        if type(line) is not int or began < kept_from or resumed <= began or not in_files(code):
            continue
        runs: Runs = Counter()
        for seq in range(began, resumed):
            other, other_code, other_line = lines[seq & mask]
            if other != thread and other_line and type(other_line) is int and in_files(other_code):
                runs[(other, other_code, other_line)] += 1
        if not runs:
            continue
        left -= 1
        before = _Nearby(lines, range(began - 1, max(kept_from, began - _LOOK_AROUND) - 1, -1), thread, code, line)
        after = _Nearby(lines, range(resumed, min(clock, resumed + _LOOK_AROUND)), thread, code, line)
        candidate = _judge(bytecode, thread, code, line, offset, runs, before, after, wanted)
        if candidate is not None and (best is None or candidate[0] > best[0]):
            left = min(left, _MORE_PAUSES) if best is None else left
            best = candidate
            if best[0][:3] == _PLAINEST:
                break
    return None if best is None else best[1]


def tell(facts: Any) -> str | None:
    """The story of `telling_pause`'s facts in plain words; None when they are not such facts."""
    try:
        kind, thread = facts["kind"], _thread_name(facts["thread"])
        where = _quote(facts["line_run"])
        read_at = None if facts["read_in"] is None else _quote(facts["read_in"])
        acted_at = None if facts["acted_in"] is None else _quote(facts["acted_in"])
        updates = [(_thread_name(update["thread"]), _quote(update), update["runs"])
                   for update in facts["updates"][:_MAX_UPDATES]]
        if kind not in _KINDS or not updates or (kind in ("after a read", *IN_FLIGHT) and acted_at is None) or (
                kind in ("read across", "overtaken") and read_at is None):
            return None
        if not all(type(runs) is int and runs > 0 for *_, runs in updates):
            return None
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    by_thread: dict[str, list[tuple[str, int]]] = {}
    for name, quoted, runs in updates:
        by_thread.setdefault(name, []).append((quoted, runs))
    if kind == "same line":
        ran = _join(f"{name} ran {'that line' if number == 0 else 'it'} {_times(sum(runs for _, runs in done))}"
                    for number, (name, done) in enumerate(by_thread.items()))
    else:
        ran = _join(f"{name} ran " + _join(f"{quoted} {_times(runs)}" for quoted, runs in done)
                    for name, done in by_thread.items())
    total = sum(runs for *_, runs in updates)
    updated = "that update" if total == 1 else f"those {total} updates"
    paused = thread[0].upper() + thread[1:]
    if kind == "half done":
        return (f"{paused} ran {acted_at}, then was paused in the middle of that change, before {where};"
                f" meanwhile {ran} and saw it half done (in flight); {thread} then resumed and finished it.")
    if kind == "overtaken":
        them = "it" if len(by_thread) == 1 else "them"
        return (f"{paused} ran {read_at}, then was paused in the middle of that work, before {where}; meanwhile"
                f" {ran}; {thread} then resumed and ran the second line after {them}, the reverse of the order in which"
                " they ran the first.")
    if kind == "read across":
        again = "that line again" if read_at == acted_at else acted_at
        return (f"{paused} ran {read_at}, then was paused in the middle of its reads; meanwhile {ran}; {thread}"
                f" then resumed and ran {again}, putting together values read before and after {updated}.")
    if read_at is None:
        halfway = "right after its read" if kind == "after a read" else "between its read and its write"
        began = f"{paused} was paused in the middle of {where}, {halfway}"
    else:
        began = f"{paused} ran {read_at}, then was paused in {where}"
        began += "" if kind == "after a read" else ", before its write"
    if kind == "after a read":
        ended = f"ran {acted_at} with a value it had read before {updated}"
    elif read_at is None:
        ended = f"wrote back a value it had read before {updated}"
    else:
        ended = f"wrote a value worked out from what it had read before {updated}"
    return f"{began}; meanwhile {ran}; {thread} then resumed and {ended}."


def first_story(module: str, pauses: Iterable[Any]) -> str | None:
    """The story of the first of `pauses` (facts reported by the process that ran the student's
    code) that quotes no file but `module`, the student's file name: what that process says is
    shown as the student's own lines, never anything else, and decides nothing."""
    for facts in pauses:
        if not isinstance(facts, dict):
            continue
        quoted = [facts.get("line_run"), facts.get("read_in"), facts.get("acted_in")]
        quoted += facts["updates"] if isinstance(facts.get("updates"), list) else [None]
        if all(line is None or isinstance(line, dict) and line.get("file") == module for line in quoted):
            story = tell(facts)
            if story:
                return story
    return None


class _FileTest:
    """Whether a code object comes from one of the files, resolving each file name once."""

    def __init__(self, files: frozenset[str]) -> None:
        self._files, self._seen = files, {}

    def __call__(self, code: CodeType) -> bool:
        name = code.co_filename
        if name not in self._seen:
            self._seen[name] = isinstance(name, str) and os.path.realpath(name) in self._files
        return self._seen[name]


class _Nearby:
    """Called: the lines a paused thread ran around its pause, searched only when a story needs
    them (most pauses tell none, and the search is most of the cost of looking at one)."""

    def __init__(self, *where: Any) -> None:
        self._where, self._found = where, None

    def __call__(self) -> list[int]:
        if self._found is None:
            self._found = _nearby(*self._where)
        return self._found


def _nearby(lines: list[Any], seqs: range, thread: int, code: CodeType, line: int) -> list[int]:
    """The lines `thread` ran in the same call of `code` as a pause on `line`, at the clock's
    values `seqs` (going away from the pause), nearest first. The tracer marks each call's start
    with line 0; the paused line's own start, just before the pause, is left out."""
    found: list[int] = []
    skip = seqs.step < 0
    for seq in seqs:
        who, at_code, at_line = lines[seq % len(lines)]
        if who != thread or at_code is not code or type(at_line) is not int:
            continue
        if at_line == 0 or len(found) == _NEARBY_LINES:
            break
        if skip and at_line == line:
            skip = False
            continue
        skip = False
        found.append(at_line)
    return found


def _judge(bytecode: _Analyses, thread: int, code: CodeType, line: int, offset: int, runs: Runs,
           before: _Nearby, after: _Nearby, kinds: frozenset[str]) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """How telling one pause is, and its facts; None when it tells no story of `kinds`."""
    for judge, told in ((_lost_update, LOST_UPDATE), (_in_flight, IN_FLIGHT), (_overtaken, OUT_OF_ORDER)):
        if kinds.intersection(told):
            found = judge(bytecode, thread, code, line, offset, runs, before, after)
            if found is not None and found[1]["kind"] in kinds:
                return found
    return None


def _in_flight(bytecode: _Analyses, thread: int, code: CodeType, line: int, offset: int, runs: Runs,
               before: _Nearby, after: _Nearby) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """A pause between two reads combined while others wrote ("read across"), else between two
    writes of one change while others read it ("half done"); None when it is neither."""
    here = bytecode[code].split(line, offset)
    # matched by name: any `x[k]` is `[]`, which alone says too little about what was in flight
    written = frozenset().union(*(bytecode.targets(other_code, other_line) for _, other_code, other_line in runs))
    by_item = "[]" in written
    written -= {"[]"}

    def reads_it(read: frozenset[str]) -> bool:  # by item too if the others wrote by item: `x[k]`, not `for k in x`
        return bool(read & written) and (not by_item or "[]" in read)

    first = second = None
    if written:
        first = line if reads_it(here[0]) else next((at for at in before() if reads_it(bytecode.reads(code, at))), None)
    if first is not None:
        second = line if reads_it(here[1]) else next((at for at in after() if reads_it(bytecode.reads(code, at))), None)
    if first is not None and second is not None and (first, second) != (line, line) and not (
            bytecode.targets(code, first) & written):
        read = bytecode.reads(code, first) & bytecode.reads(code, second)
        updates = [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
                   if bytecode.targets(other_code, other_line) & read]
        if updates:
            return _facts("read across", _READ_ACROSS, thread, code, line, first, second, updates)
    readers = [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
               if bytecode.reads(other_code, other_line) and not bytecode.writes(other_code, other_line)]
    if not readers and all(other_code is code for _, other_code, _ in runs):  # no onlooker of a change by a call
        return None
    finish = line if here[2] else next((at for at in after() if bytecode.writes(code, at)), None)
    change = bytecode.targets(code, finish) if finish is not None else frozenset()
    started = next((at for at in _since(before(), finish) if bytecode.targets(code, at) & change - {"[]"}), None)
    if started is None:
        return None if finish is None else _half_done_by_a_call(bytecode, thread, code, line, offset, runs, before,
                                                                finish)
    change = (change & bytecode.targets(code, started)) - {"[]"}
    updates = [update for update in readers if bytecode.reads(update[1], update[2]) & change]
    return _facts("half done", _HALF_DONE, thread, code, finish, None, started, updates) if updates else None


def _first_call(bytecode: _Analyses, code: CodeType, line: int, offset: int, before: _Nearby,
                until: int | None = None) -> int | None:
    """The latest line of the paused thread that called a method of a shared object (`self.x.m()`)
    and whose call is over: the paused line if it made it before the pause, else an earlier
    one; None when the paused line is still to make its own (the thread is not past it)."""
    done, to_come = bytecode[code].calls(line, offset)
    if done:
        return line
    if to_come:
        return None
    return next((at for at in _since(before(), until) if bytecode[code].calls(at, 0)[1]), None)


def _since(lines: list[int], line: int | None) -> list[int]:
    """The nearest of `lines` up to an earlier run of `line` (the loop's previous round)."""
    return lines if line not in lines else lines[:lines.index(line)]


def _half_done_by_a_call(bytecode: _Analyses, thread: int, code: CodeType, line: int, offset: int, runs: Runs,
                         before: _Nearby, finish: int) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """A change whose first half is a call into library code, which the tracer does not see
    inside (`self._tasks.get()`, `self._event.set()`), and whose second half the paused thread
    writes: the story tells the line of that call and the lines that other code (not other
    threads running the same lines) ran on the objects of both halves meanwhile. One onlooker
    at least reads what the second half writes (`self._results`): a line that only used the
    first half's object (another `put()`) saw nothing half done."""
    started = _first_call(bytecode, code, line, offset, before, finish)
    if started is None or started == finish:
        return None
    second = bytecode.targets(code, finish) - {"[]"}
    change = bytecode[code].calls(started, 0)[1] | second
    onlookers = [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
                 if other_code is not code and bytecode.reads(other_code, other_line) & change
                 and not bytecode[other_code].calls(other_line, 0)[1] & change]
    if not any(bytecode.reads(other_code, other_line) & second for _, other_code, other_line, _ in onlookers):
        return None
    _, facts = _facts("half done", _HALF_DONE_BY_A_CALL, thread, code, finish, None, started, onlookers)
    return (_HALF_DONE_BY_A_CALL,), facts


def _overtaken(bytecode: _Analyses, thread: int, code: CodeType, line: int, offset: int, runs: Runs,
               before: _Nearby, after: _Nearby) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """A thread paused between taking work (a call on a shared object, `self._tasks.get()`) and
    handing it on (a later call on one, `self._results.append(result)`), while other threads ran
    both lines: they took work after it and handed theirs on first."""
    calling = bytecode[code].calls
    done, to_come = calling(line, offset)
    taken = line if done else next((at for at in before() if calling(at, 0)[1]), None)
    handed = line if to_come else next((at for at in after() if calling(at, 0)[1]), None)
    if taken is None or handed is None or taken == handed or taken not in bytecode[code].keeps:
        return None  # not between taking work (a call whose result it keeps) and handing it on
    overtaking = {other for (other, other_code, other_line) in runs
                  if other_code is code and other_line == taken and (other, code, handed) in runs}
    updates = [(other, code, at, runs[(other, code, at)]) for other in overtaking for at in (taken, handed)]
    return _facts("overtaken", _OVERTAKEN, thread, code, handed, taken, None, updates) if updates else None


def _facts(kind: str, rank: float, thread: int, code: CodeType, line: int, read_in: int | None, acted_in: int | None,
           updates: list[tuple[int, CodeType, int, int]]) -> tuple[tuple[int, ...], dict[str, Any]]:
    """A story's rank and its facts, plain data."""
    updates.sort(key=lambda update: (update[0], kind == "overtaken" and update[2] != read_in, -update[3], update[2]))
    facts = {
        "kind": kind, "thread": thread, "line_run": _line_facts(code, line),
        "read_in": None if read_in is None else _line_facts(code, read_in),
        "acted_in": None if acted_in is None else _line_facts(code, acted_in),
        "updates": [dict(_line_facts(other_code, other_line), thread=other, runs=count)
                    for other, other_code, other_line, count in updates[:_MAX_UPDATES]],
    }
    threads = len({update[0] for update in updates})
    return (rank, read_in is None, -threads, sum(update[3] for update in updates)), facts


def _lost_update(bytecode: _Analyses, thread: int, code: CodeType, line: int, offset: int, runs: Runs,
                 before: _Nearby, after: _Nearby) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """How telling one pause is of a lost update, and its facts; None when it explains none."""
    read_here, stale = bytecode[code].around(line, offset)
    acted_in = None
    if stale:  # the paused line writes a value read before the pause: did others write it meanwhile?
        kind, rank = "same line", _SAME_LINE
        updates = [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
                   if other_code is code and other_line == line]
        if not updates:
            kind, rank = "other line", _OTHER_LINE
            updates = _writing(bytecode, runs, stale)
            if not updates:
                return None
        read_in = None if read_here & stale else next(
            (earlier for earlier in before() if bytecode.reads(code, earlier) & stale), None)
        if read_in is None and not read_here & stale:
            return None
    else:  # a check: others wrote what the paused thread had read, and it then wrote on that basis
        kind, rank = "after a read", _AFTER_A_READ
        written = frozenset().union(*(bytecode.writes(other_code, other_line) for _, other_code, other_line in runs))
        if not written:
            return None
        read_in = None if read_here & written else next(
            (earlier for earlier in before() if bytecode.reads(code, earlier) & written), None)
        read = read_here if read_in is None else bytecode.reads(code, read_in)
        acted_in = next((later for later in after() if bytecode.writes(code, later) & read & written), None)
        if acted_in is None:
            return None
        updates = _writing(bytecode, runs, read & written & bytecode.writes(code, acted_in))
        same = [update for update in updates if update[1] is code and update[2] == acted_in]
        if same:  # others ran the very write it then ran: that is the story
            updates = same
        else:  # others wrote a variable of the same name (`x[k]` matches any `x[j]`): a weaker story
            rank = _AFTER_A_READ_ELSEWHERE
    if not updates:
        return None
    return _facts(kind, rank, thread, code, line, read_in, acted_in, updates)


def _line_facts(code: CodeType, line: int) -> dict[str, Any]:
    return {"file": os.path.basename(code.co_filename), "line": line,
            "source": " ".join(linecache.getline(code.co_filename, line).split())[:_MAX_SOURCE]}


def _writing(bytecode: _Analyses, runs: Runs, variables: frozenset[str]) -> list[tuple[int, CodeType, int, int]]:
    """The lines other threads ran that write one of the variables, with how often each ran."""
    return [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
            if bytecode.writes(other_code, other_line) & variables]


class _Bytecode:
    """What each line of one code object reads and writes, from its instructions."""

    def __init__(self, code: CodeType) -> None:
        starts = {}
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                starts[offset] = line
        self.listed: list[tuple[int, int | None, str, str]] = []  # (offset, line, opname, variable)
        self.reads: dict[int | None, frozenset[str]] = {}
        self.writes: dict[int | None, frozenset[str]] = {}
        for instruction in dis.get_instructions(code):
            kind = _READS.get(instruction.opname) or _WRITES.get(instruction.opname)
            variable = "" if kind is None else "[]" if kind == "item" else str(instruction.argval)
            line = starts.get(instruction.offset)
            self.listed.append((instruction.offset, line, instruction.opname, variable))
            if kind is not None:
                table = self.reads if instruction.opname in _READS else self.writes
                table[line] = table.get(line, frozenset()) | {variable}
        # (line, offset of the call, object, result kept?): `self.x.m(...)` calls a method of x
        self._calls: list[tuple[int | None, int, str, bool]] = []
        for index, (_, line, opname, variable) in enumerate(self.listed[:-1]):
            _, next_line, next_opname, method = self.listed[index + 1]
            if opname != "LOAD_ATTR" or next_line not in (line, None) or method in _CHECKS \
                    or next_opname not in ("LOAD_ATTR", "LOAD_METHOD") or method.startswith("is_"):
                continue
            call = next((at for at, (_, at_line, at_opname, _) in enumerate(self.listed[index + 2:], index + 2)
                         if at_line not in (line, None) or at_opname.startswith("CALL")), None)
            if call is not None and self.listed[call][2].startswith("CALL") and call + 1 < len(self.listed):
                self._calls.append((line, self.listed[call][0], variable, self.listed[call + 1][2] != "POP_TOP"))
        self.keeps = {line for line, _, _, kept in self._calls if kept}  # lines that keep what a call returned
        self._around: dict[tuple[int, int], tuple[frozenset[str], frozenset[str]]] = {}
        self._split: dict[tuple[int, int], tuple[frozenset[str], frozenset[str], frozenset[str]]] = {}

    def calls(self, line: int, offset: int) -> tuple[frozenset[str], frozenset[str]]:
        """The objects whose methods `line` called before `offset`, in the run of its instructions
        that holds `offset` (a loop's line can have two), and those it calls after it."""
        since = max((at for at, at_line, _, _ in self.listed if at < offset and at_line not in (line, None)),
                    default=-1)
        here = [(at, variable) for at_line, at, variable, _ in self._calls if at_line == line]
        return (frozenset(variable for at, variable in here if since < at < offset),
                frozenset(variable for at, variable in here if at >= offset))

    def split(self, line: int, offset: int) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """What `line` read before `offset`, what it reads after it, and what it writes after it."""
        if (line, offset) not in self._split:
            parts: tuple[set[str], set[str], set[str]] = (set(), set(), set())
            for at, at_line, opname, variable in self.listed:
                if at_line == line and variable:
                    reads = opname in _READS
                    if at >= offset or reads:
                        parts[0 if at < offset else 1 if reads else 2].add(variable)
            self._split[(line, offset)] = (frozenset(parts[0]), frozenset(parts[1]), frozenset(parts[2]))
        return self._split[(line, offset)]

    def around(self, line: int, offset: int) -> tuple[frozenset[str], frozenset[str]]:
        """What `line` read before `offset`, and what it writes after it without reading it again."""
        if (line, offset) not in self._around:
            listed = self.listed
            here = next((index for index, item in enumerate(listed) if item[0] >= offset), len(listed))
            start = here
            while start > 0 and listed[start - 1][1] in (line, None):
                start -= 1
            read = frozenset(variable for _, _, opname, variable in listed[start:here] if opname in _READS)
            fresh, stale = set(), set()
            for _, at_line, opname, variable in listed[here:]:
                if at_line not in (line, None):
                    break
                if opname in _READS:
                    fresh.add(variable)
                elif opname in _WRITES and variable not in fresh:
                    stale.add(variable)
            self._around[(line, offset)] = (read, frozenset(stale))
        return self._around[(line, offset)]


class _Analyses(dict):
    """The `_Bytecode` of each code object a story looks at, made once per story."""

    def __missing__(self, code: CodeType) -> _Bytecode:
        self[code] = _Bytecode(code)
        return self[code]

    def reads(self, code: CodeType, line: int) -> frozenset[str]:
        return self[code].reads.get(line, frozenset())

    def writes(self, code: CodeType, line: int) -> frozenset[str]:
        return self[code].writes.get(line, frozenset())

    def targets(self, code: CodeType, line: int) -> frozenset[str]:
        """What a line writes, with the containers it reads when it writes by item (`x[k] = ...`
        writes `x`), so that a reader of the whole container is matched."""
        written = self.writes(code, line)
        return written | self.reads(code, line) if "[]" in written else written


def _thread_name(number: Any) -> str:
    if type(number) is not int or number < 0:
        raise ValueError(number)
    return f"Thread-{number}" if number else "the main thread"


def _quote(line: Any) -> str:
    file, number, source = line["file"], line["line"], line["source"]
    if not (isinstance(file, str) and type(number) is int and isinstance(source, str)):
        raise TypeError("not a recorded line")
    name = " ".join(file.split())[:_MAX_SOURCE]
    text = " ".join(source.split())[:_MAX_SOURCE].replace("`", "'")
    return f"`{name}:{number} {text}`" if text else f"`{name}:{number}`"


def _times(runs: int) -> str:
    return "once" if runs == 1 else "twice" if runs == 2 else f"{runs} times"


def _join(parts: Iterable[str]) -> str:
    listed = list(parts)
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
