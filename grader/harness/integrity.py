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
