"""The concurrency kit's harness and grader: `python -m grader --help`."""
