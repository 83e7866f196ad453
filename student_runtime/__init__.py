"""The student runtime: what a student's repository needs to run the visible tests.

- preempt.py: forced interleavings, which make races show up on every run;
- loopback.py: a real HTTP server on 127.0.0.1 for the downloader exercises;
- plugin.py: the pytest plugin of the visible tests (the `--seed` option, the `rng`,
  `schedules` and `loopback` fixtures, short failure reports);
- race_story.py and deadlock.py: the interleaving that lost an update, and the cycle of a
  deadlock, told in the student's own lines;
- diagnoses/: one module per exercise, the message of each classic mistake, shared by the
  visible tests and the hidden suites;
- exercises.py, progress.py, autograde.py, cli/: the listing of a released template and the
  commands `status`, `hint`, `check`, `watch` and `autograde`;
- processes.py: ending a run together with every process it started.

The instructor's grader builds on it; it never imports the grader.
"""
