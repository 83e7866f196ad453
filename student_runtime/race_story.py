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
thread paused right after a read (a check) while other threads wrote what it had read. Variables
are matched by name (`self._value` by `_value`, any `x[k]` by the brackets), from the bytecode.
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
_SAME_LINE, _OTHER_LINE, _AFTER_A_READ = 3, 2, 1
# The plainest story, which none beats but by a larger count: between a line's read and write,
# while one other thread ran that line. The first one found, from the latest pause, is told.
_PLAINEST = (_SAME_LINE, True, -1)
_MAX_SOURCE = 120  # characters of a source line quoted in a story
_MAX_UPDATES = 3  # lines of other threads a story names
_NEARBY_LINES = 8  # lines of the paused thread searched, before and after the pause, for its read and write
_LOOK_AROUND = 256  # recorded lines searched for them


def telling_pause(tape: Tape, files: Iterable[str]) -> dict[str, Any] | None:
    """The pause that best explains a lost update in `files`, as plain data, or None when no
    recorded pause does (the code held its locks, or the record was overwritten)."""
    clock, lines, paused, pauses = tape
    in_files = _FileTest(frozenset(os.path.realpath(file) for file in files))
    kept_from = max(0, clock - len(lines))
    bytecode = _Analyses()
    best: tuple[tuple[int, ...], dict[str, Any]] | None = None
    for at in range(paused - 1, max(0, paused - len(pauses)) - 1, -1):  # latest first
        pause = pauses[at % len(pauses)]
        if pause is None:
            continue
        thread, code, line, offset, began, resumed = pause
        if type(line) is not int or began < kept_from or resumed <= began or not in_files(code):
            continue
        runs: Runs = Counter()
        for seq in range(began, resumed):
            other, other_code, other_line = lines[seq % len(lines)]
            if other != thread and type(other_line) is int and other_line and in_files(other_code):
                runs[(other, other_code, other_line)] += 1
        if not runs:
            continue
        before = _nearby(lines, range(began - 1, max(kept_from, began - _LOOK_AROUND) - 1, -1), thread, code, line)
        after = _nearby(lines, range(resumed, min(clock, resumed + _LOOK_AROUND)), thread, code, line)
        candidate = _judge(bytecode, thread, code, line, offset, runs, before, after)
        if candidate is not None and (best is None or candidate[0] > best[0]):
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
        if kind not in ("same line", "other line", "after a read") or not updates or (
                kind == "after a read" and acted_at is None):
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
           before: list[int], after: list[int]) -> tuple[tuple[int, ...], dict[str, Any]] | None:
    """How telling one pause is, and its facts; None when it explains no lost update."""
    read_here, stale = bytecode[code].around(line, offset)
    acted_in = None
    if stale:  # the paused line writes a value read before the pause: did others write it meanwhile?
        kind, rank = "same line", _SAME_LINE
        updates = [(other, other_code, other_line, count) for (other, other_code, other_line), count in runs.items()
                   if other_code is code and other_line == line]
        if not updates:
            kind, rank = "other line", _OTHER_LINE
            updates = _writing(bytecode, runs, stale)
        read_in = None if read_here & stale else next(
            (earlier for earlier in before if bytecode.reads(code, earlier) & stale), None)
        if read_in is None and not read_here & stale:
            return None
    else:  # a check: others wrote what the paused thread had read, and it then wrote on that basis
        kind, rank = "after a read", _AFTER_A_READ
        written = frozenset().union(*(bytecode.writes(other_code, other_line) for _, other_code, other_line in runs))
        read_in = None if read_here & written else next(
            (earlier for earlier in before if bytecode.reads(code, earlier) & written), None)
        read = read_here if read_in is None else bytecode.reads(code, read_in)
        acted_in = next((later for later in after if bytecode.writes(code, later) & read & written), None)
        if acted_in is None:
            return None
        updates = _writing(bytecode, runs, read & written & bytecode.writes(code, acted_in))
        same = [update for update in updates if update[1] is code and update[2] == acted_in]
        updates = same or updates  # others ran the very write it then ran: that is the story
    if not updates:
        return None
    updates.sort(key=lambda update: (update[0], -update[3], update[2]))
    facts = {
        "kind": kind, "thread": thread, "line_run": _line_facts(code, line),
        "read_in": None if read_in is None else _line_facts(code, read_in),
        "acted_in": None if acted_in is None else _line_facts(code, acted_in),
        "updates": [dict(_line_facts(other_code, other_line), thread=other, runs=count)
                    for other, other_code, other_line, count in updates[:_MAX_UPDATES]],
    }
    threads = len({update[0] for update in updates})
    return (rank, read_in is None, -threads, sum(update[3] for update in updates)), facts


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
        self._around: dict[tuple[int, int], tuple[frozenset[str], frozenset[str]]] = {}

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
