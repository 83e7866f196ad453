"""The students' side of the kit: `python -m grader release` writes their template repository.

- template.py: the repository (stubs, visible tests, the student runtime, pyproject.toml,
  README.md, exercises.json);
- workflow.py: its autograding workflow for GitHub Actions, in GitHub Classroom's format.
"""

from grader.release.template import release

__all__ = ["release"]
