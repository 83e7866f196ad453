"""Hostile student: a sitecustomize.py (at the top of the repository and beside the module) that
Python's `site` imports at start-up when its folder is on the path; it patches _pytest so that
every report reads as passed, should the grader start Python or pytest inside the submission.

It hands in the untouched stub: must earn 0.
"""

try:
    import _pytest.reports
except ImportError:
    pass
else:
    _pytest.reports.BaseReport.passed = property(lambda self: True)
    _pytest.reports.BaseReport.failed = property(lambda self: False)
