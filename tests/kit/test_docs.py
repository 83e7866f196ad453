"""The manifest-driven parts of the README files are up to date."""

from grader import docs


def test_generated_documentation_is_up_to_date():
    stale = [str(path) for path in docs.stale_files()]
    assert not stale, f"run `python -m grader docs` to regenerate: {stale}"
