"""Speedup verdicts: relative to the reference measured in the same rounds."""

from itertools import count

import pytest

from grader.harness.timing import MIN_MEASURABLE_SPEEDUP, Speedup, best_speedups, judge_speedup, usable_cores


def test_best_speedups_keeps_the_fastest_of_each_side_and_interleaves():
    calls = []
    clock = count()

    def timer(name, seconds):
        def run():
            calls.append(name)
            return seconds[next(clock) % len(seconds)]
        return run

    result = best_speedups({
        "a": (timer("a-seq", [2.0, 1.0]), timer("a-par", [1.0, 0.5])),
        "b": (timer("b-seq", [4.0]), timer("b-par", [4.0])),
    }, rounds=2)
    assert calls == ["a-seq", "a-par", "b-seq", "b-par", "b-seq", "b-par", "a-seq", "a-par"]
    assert result["b"].ratio == 1.0
    assert result["a"].sequential <= 2.0 and result["a"].parallel <= 1.0


@pytest.mark.parametrize(("student", "reference", "passed"), [
    (1.9, 1.9, True),
    (1.5, 1.9, True),   # 1 + 0.5 * 0.9 = 1.45
    (1.4, 1.9, False),
    (1.0, 1.9, False),  # a thread pool: no gain at all
    (1.2, 1.35, True),  # a loaded machine lowers the bar with the reference
])
def test_the_bar_follows_the_reference(student, reference, passed):
    verdict = judge_speedup(Speedup(student, 1.0), Speedup(reference, 1.0), cores=2)
    assert verdict.measurable and verdict.passed is passed
    assert f"{student:.2f}x" in verdict.explanation


def test_a_machine_too_busy_to_measure_is_not_a_verdict():
    verdict = judge_speedup(Speedup(1.0, 1.0), Speedup(MIN_MEASURABLE_SPEEDUP - 0.1, 1.0), cores=2)
    assert not verdict.measurable and "too busy" in verdict.explanation


def test_usable_cores_is_at_least_one():
    assert usable_cores() >= 1
