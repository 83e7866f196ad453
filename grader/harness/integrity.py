"""Integrity of a grading run: what the judging side found out about a submission's conduct.

A `Finding` is one fact, phrased for the instructor: "sys.settrace() called from
counter.py:12", "a reply was not signed by the trusted code". Its status says what it costs:
`tampered` (the instrumentation was disabled or touched, a reply was forged, a protection was
violated) makes the exercise earn 0; `suspicious` leaves the points standing and flags the
submission for the instructor. An exercise with no finding is `clean`.

Findings come from the sandbox (what the child's audit hook and the parent saw during the
calls) and from a scan of the student's source.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

CLEAN, SUSPICIOUS, TAMPERED = "clean", "suspicious", "tampered"
_RANK = {CLEAN: 0, SUSPICIOUS: 1, TAMPERED: 2}


@dataclass(frozen=True)
class Finding:
    status: str  # SUSPICIOUS or TAMPERED
    evidence: str  # one line in plain words, naming the student's file and line where known

    def __post_init__(self) -> None:
        if self.status not in (SUSPICIOUS, TAMPERED):
            raise ValueError(f"a finding is {SUSPICIOUS!r} or {TAMPERED!r}, not {self.status!r}")


def overall_status(findings: Iterable[Finding]) -> str:
    """The worst status among the findings: clean, suspicious or tampered."""
    return max((finding.status for finding in findings), key=_RANK.__getitem__, default=CLEAN)


# -- scanning the student's source ----------------------------------------------------------
# What no solution of these exercises needs, by the reason it is suspicious. A dotted name
# matches itself and everything under it ("gc" covers gc.get_objects).

_TRACING = "tracing and frame access"
_CALLS: dict[str, str] = {
    **dict.fromkeys(
        ["sys.settrace", "sys.setprofile", "sys.gettrace", "sys.getprofile", "sys._getframe",
         "sys._current_frames", "sys.monitoring", "threading.settrace", "threading.setprofile",
         "threading.settrace_all_threads", "threading.setprofile_all_threads", "threading.gettrace",
         "threading.getprofile", "inspect.currentframe", "inspect.stack", "inspect.trace",
         "inspect.getouterframes", "inspect.getinnerframes", "inspect.getframeinfo", "bdb", "pdb", "cProfile"],
        _TRACING),
    "gc": "the garbage collector's view of every object",
    "ctypes": "raw memory access",
    "_ctypes": "raw memory access",
    "sys.modules": "rewiring loaded modules",
    "sys.path": "editing the import path",
    "builtins": "patching builtins",
    **dict.fromkeys(["os.kill", "os.killpg", "signal.pthread_kill"], "signalling other processes"),
    **dict.fromkeys(["signal.signal", "signal.raise_signal", "signal.setitimer", "signal.alarm", "signal.set_wakeup_fd",
                     "_signal"], "signal handlers, which are handed the interrupted frame"),
    **dict.fromkeys(["importlib.util.module_from_spec", "_imp"], "making a second copy of a module"),
    **dict.fromkeys(["os.setsid", "os.setpgrp", "os.setpgid", "os.fork", "os.forkpty", "pty.fork"],
                    "detaching or forking processes by hand"),
    **dict.fromkeys(["importlib.util.spec_from_file_location", "importlib.machinery.SourceFileLoader",
                     "importlib.machinery.SourcelessFileLoader", "runpy"], "loading code from another file"),
}
# Attributes suspicious on any object: frames, tracebacks, code objects, builtins.
_ATTRIBUTES: dict[str, str] = {
    **dict.fromkeys(["f_trace", "f_trace_opcodes", "f_trace_lines", "f_back", "f_locals", "f_globals",
                     "tb_frame", "gi_frame", "cr_frame", "ag_frame"], _TRACING),
    **dict.fromkeys(["__code__", "co_code", "co_filename", "co_consts"], "editing code objects"),
    **dict.fromkeys(["__closure__", "cell_contents", "__globals__", "__defaults__", "__kwdefaults__"],
                    "reading what a function keeps (its closure, defaults and globals)"),
    "__builtins__": "patching builtins",
}
_NAMED_IN_STRINGS = {
    **{name.rsplit(".", 1)[-1]: reason for name, reason in _CALLS.items() if reason == _TRACING},
    **_ATTRIBUTES,
}
_BUILTIN_CALLS = {**dict.fromkeys(["exec", "eval", "compile"], "running generated code"),
                  "breakpoint": "starting a debugger, which traces the code"}
_OPENERS = {"open", "io.open", "os.open", "codecs.open", "pathlib.Path", "Path"}
_OUTSIDE = "opening a file outside the exercise"
_PROC = "reading other processes through /proc"
# The fallback for a file that does not parse: the same names, found line by line.
_FALLBACK = [
    (re.compile(rf"(?<![\w.]){re.escape(name)}\b"), name, reason)
    for name, reason in {**_CALLS, **_BUILTIN_CALLS}.items()
] + [
    (re.compile(rf"\.{name}\b"), name, reason) for name, reason in _ATTRIBUTES.items()
] + [
    (re.compile(r"\b(settrace|setprofile|gettrace|_getframe|_current_frames)\b"), "tracing functions", _TRACING),
    (re.compile(r"/proc\b"), "/proc", _PROC),
]


def scan_source(source: str, filename: str) -> list[Finding]:
    """Suspicious findings, with line numbers, for what no solution of these exercises needs.

    A heuristic that never costs points: it flags tracing and frame functions, debuggers and
    profilers, `gc`, `ctypes`, `sys.modules`, `sys.path`, `/proc`, signalling and detaching
    processes, signal handlers, `exec`/`eval`/`compile`, code objects, what functions keep
    (closures, defaults, globals), loading code by path or copying a module, builtins patching
    and `open()` of absolute or parent paths. A file that does not parse is scanned line by line.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        hits = _scan_lines(source)
    else:
        scanner = _Scanner()
        scanner.visit(tree)
        hits = scanner.hits
    unique = sorted(set(hits))
    return [Finding(SUSPICIOUS, f"{filename}:{line}: {name} ({reason}): no solution of this exercise needs it")
            for line, name, reason in unique]


def _matching(dotted: str) -> str | None:
    """The entry of _CALLS that dotted is or lies under."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in _CALLS:
            return ".".join(parts[:end])
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # local name -> the dotted name it was imported as
        self.hits: list[tuple[int, str, str]] = []

    def _flag(self, node: ast.AST, name: str, reason: str) -> None:
        self.hits.append((getattr(node, "lineno", 0), name, reason))

    def _flag_dotted(self, node: ast.AST, dotted: str) -> None:
        entry = _matching(dotted)
        if entry is not None:
            self._flag(node, entry, _CALLS[entry])

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            self._flag_dotted(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            dotted = f"{node.module or ''}.{alias.name}"
            self.aliases[alias.asname or alias.name] = dotted
            self._flag_dotted(node, dotted)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _ATTRIBUTES:
            self._flag(node, node.attr, _ATTRIBUTES[node.attr])
        dotted = self._dotted(node)
        if dotted:
            self._flag_dotted(node, dotted)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases:
            self._flag_dotted(node, self.aliases[node.id])
        elif node.id in _BUILTIN_CALLS:
            self._flag(node, node.id, _BUILTIN_CALLS[node.id])
        elif node.id in _ATTRIBUTES:
            self._flag(node, node.id, _ATTRIBUTES[node.id])

    def visit_Call(self, node: ast.Call) -> None:
        function = self._dotted(node.func)
        first = node.args[0] if node.args else None
        if function in _OPENERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            if first.value.startswith(("/", "\\")) or ".." in first.value.replace("\\", "/").split("/"):
                self._flag(node, f"{function}({first.value!r})", _OUTSIDE)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "replace" and any(
                (keyword.arg or "").startswith("co_") for keyword in node.keywords):
            self._flag(node, "code.replace(co_...)", "editing code objects")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if "/proc" in node.value:
                self._flag(node, "/proc", _PROC)
            if node.value in _NAMED_IN_STRINGS:  # getattr(sys, "settrace") and the like
                self._flag(node, repr(node.value), _NAMED_IN_STRINGS[node.value])


def _scan_lines(source: str) -> list[tuple[int, str, str]]:
    hits = []
    for number, line in enumerate(source.splitlines(), start=1):
        code = line.split("#", 1)[0]
        hits += [(number, name, reason) for pattern, name, reason in _FALLBACK if pattern.search(code)]
    return hits
