"""Hostile student: a conftest.py at the top of the repository (and another beside the module)
that turns every test report into a pass, should the grader run pytest inside the submission.

It hands in the untouched stub: must earn 0 (only counter.py is taken from a submission).
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome, report.longrepr = "passed", None
