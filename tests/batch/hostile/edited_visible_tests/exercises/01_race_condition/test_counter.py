"""Hostile student: the visible tests, edited to be trivially true, in case the grader runs the
submission's own tests.

It hands in the untouched stub: must earn 0 (the grader runs the instructor's hidden suites).
"""


def test_counter_counts_on_one_thread():
    assert True


def test_count_in_threads_returns_the_total():
    assert True


def test_no_update_is_lost_under_forced_interleavings():
    assert True
