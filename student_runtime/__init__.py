"""The student runtime: what a student's repository needs to run the visible tests.

- preempt.py: forced interleavings, which make races show up on every run;
- loopback.py: a real HTTP server on 127.0.0.1 for the downloader exercises;
- plugin.py: the pytest plugin of the visible tests (the `--seed` option, the `rng`,
  `schedules` and `loopback` fixtures, short failure reports).

The instructor's grader builds on it; it never imports the grader.
"""
