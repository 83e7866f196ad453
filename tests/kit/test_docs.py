"""The README files are up to date: their manifest-driven parts, and the protections a run reports."""

import shutil
from pathlib import Path

from grader import docs
from grader.harness.confine import protections_in_force
from grader.manifest import KIT_ROOT, load_exercises


def test_generated_documentation_is_up_to_date():
    stale = [str(path) for path in docs.stale_files()]
    assert not stale, f"run `python -m grader docs` to regenerate: {stale}"


def copy_of_the_documentation(root: Path) -> Path:
    shutil.copy(KIT_ROOT / "exercises.toml", root)
    shutil.copy(KIT_ROOT / "README.md", root)
    for exercise in load_exercises():
        (root / "exercises" / exercise.id).mkdir(parents=True)
        shutil.copy(exercise.stub_dir / "README.md", root / "exercises" / exercise.id)
    return root


def test_an_outdated_hint_is_stale_and_regenerated(tmp_path: Path):
    root = copy_of_the_documentation(tmp_path)
    readme = root / "exercises/05_queue/README.md"
    readme.write_text(readme.read_text().replace(load_exercises()[4].hints[0], "an old hint"))
    assert docs.stale_files(root) == [readme]
    assert docs.write_all(root) == [readme]
    assert docs.stale_files(root) == []


def test_a_readme_that_lost_its_hint_markers_is_stale(tmp_path: Path):
    root = copy_of_the_documentation(tmp_path)
    readme = root / "exercises/05_queue/README.md"
    readme.write_text(readme.read_text().replace("<!-- BEGIN GENERATED: hints -->\n", ""))
    assert docs.stale_files(root) == [readme]
    assert docs.files_missing_markers(root) == [readme]
    assert docs.write_all(root) == [], "only a person can put the markers back"


def test_the_readme_names_every_protection_the_header_reports():
    # The threat model must describe every protection a run reports, under the name it reports.
    readme = (KIT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in protections_in_force() if f"{name}:" not in readme]
    assert not missing, f"README.md does not name these protections of the report header: {missing}"
