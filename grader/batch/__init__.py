"""The instructor's batch grader: a whole class, graded through the sealed sandbox.

`python -m grader grade` is a short pipeline of single-purpose steps, one module each:

1. discover.py  finds the students in a folder of repositories, GitHub Classroom clones,
                nbgrader's submitted/ tree or .zip files;
2. stage.py     copies only the files the manifest names as the student's into a private
                folder (the instructor's suites and configuration are used, never the
                submission's) and fingerprints them, so an unchanged submission is not regraded;
3. run.py       grades the staged copy with the hidden suites, in parallel, timing checks alone;
4. results.py   turns the suites' report into results.json, feedback.md and grades.csv (pure
                functions over plain data);
5. gradebook.py and gradescope.py publish the same results to nbgrader and Gradescope.
"""
