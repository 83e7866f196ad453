"""Quick checks for counter.py. Run: python -m pytest exercises/01_race_condition

The hidden grading suite checks the same things more thoroughly (more schedules, random sizes).
"""

import threading

import counter
from student_runtime.diagnoses import ex01_race_condition as diagnose
from student_runtime.preempt import forced_interleavings


def test_counter_counts_on_one_thread():
    shared, done = counter.Counter(), []
    value = shared.value
    assert value == 0, diagnose.new_counter_not_zero(value)
    for amount, expected in [(None, 1), (5, 6)]:
        done.append(diagnose.spelled(amount))
        calls = f"Counter(), then {', '.join(done)}"
        try:
            shared.increment() if amount is None else shared.increment(amount)
        except NotImplementedError:
            raise
        except Exception as error:
            raise AssertionError(diagnose.increment_raised(amount, f"{type(error).__name__}({str(error)!r})", calls)) from None
        value, before = shared.value, value
        assert value == expected, diagnose.increment_wrong(amount, before, value, expected, calls)


def test_count_in_threads_returns_the_total():
    total = counter.count_in_threads(4, 1000)
    assert total == 4000, diagnose.wrong_total(4, 1000, total)


def test_no_update_is_lost_under_forced_interleavings(schedules):
    # Real schedulers rarely switch threads mid-increment; this test makes them switch often.
    for seed in schedules.seeds(3):
        shared = counter.Counter()
        errors = []

        def work():
            try:
                for _ in range(200):
                    shared.increment()
            except Exception as error:  # raised below: an error in a thread is not a lost update
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(4)]
        with forced_interleavings([counter], seed) as block:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        total = shared.value
        assert total == 800, schedules.failure(
            f"lost update: 4 threads x 200 increments gave {total}, expected 800.", block)
