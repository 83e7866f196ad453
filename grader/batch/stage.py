"""Take from a submission only the files the manifest names as the student's.

Each exercise's file is `exercises/<id>/<module>.py`, or `<module>.py` at the top of the
submission (files uploaded loose, as on Gradescope). Nothing else of the submission is read:
no conftest.py, pytest.ini, pyproject, sitecustomize.py or edited test reaches the grading
run, which uses the instructor's own suites and configuration. A file must be a regular file
of at most 1 MiB inside the submission: symbolic links are refused, so a submission cannot
hand in another student's file or one of the grader's.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.batch.discover import Submission
from grader.manifest import KIT_ROOT, Exercise

MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Staged:
    """The student's files, by exercise id, and why an exercise has none."""

    files: dict[str, bytes] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    commit: str | None = None

    def write(self, exercises: Sequence[Exercise], folder: Path) -> Path:
        """Lay the files out as a student repository in `folder` and return it."""
        for exercise in exercises:
            if exercise.id in self.files:
                target = exercise.module_file(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.files[exercise.id])
        return folder

    def fingerprint(self, kit: str) -> str:
        digest = hashlib.sha256(kit.encode())
        for exercise_id in sorted(self.files):
            digest.update(f"\0{exercise_id}\0".encode() + hashlib.sha256(self.files[exercise_id]).digest())
        for exercise_id in sorted(self.problems):
            digest.update(f"\0{exercise_id}\0{self.problems[exercise_id]}".encode())
        return digest.hexdigest()


def collect(submission: Submission, exercises: Sequence[Exercise]) -> Staged:
    """Read each exercise's file from a submission folder or .zip file."""
    if submission.path.suffix == ".zip" and not submission.path.is_dir():
        return _collect_zip(submission.path, exercises)
    if not submission.path.is_dir():
        return Staged(problems={e.id: f"no submission: {submission.path.name} is not a folder" for e in exercises})
    staged = Staged(commit=git_commit(submission.path))
    for exercise in exercises:
        candidates = [("exercises", exercise.id, f"{exercise.module}.py"), (f"{exercise.module}.py",)]
        reasons = []
        for parts in candidates:
            try:
                staged.files[exercise.id] = read_inside(submission.path, parts)
                break
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as error:
                reasons.append(f"{'/'.join(parts)}: {error}")
        else:
            staged.problems[exercise.id] = "; ".join(reasons) or \
                f"no file exercises/{exercise.id}/{exercise.module}.py in the submission"
    return staged


def read_inside(root: Path, parts: Sequence[str]) -> bytes:
    """The bytes of root/parts..., following no symbolic link on the way. FileNotFoundError
    when it is absent; ValueError when it is not a regular file or is too large."""
    if any(part in ("", ".", "..") or "/" in part or os.sep in part for part in parts):
        raise ValueError("a path that leads outside the submission")
    if os.open not in os.supports_dir_fd or not hasattr(os, "O_NOFOLLOW"):
        path = Path(root, *parts)  # Windows: no dir_fd, so resolve and check the result instead
        if path.is_symlink() or Path(root).resolve() not in path.resolve().parents:
            raise ValueError("a link that leads outside the submission")
        return _checked(path.read_bytes())
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(root, flags | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = _open_at(descriptor, part, flags | os.O_DIRECTORY)
            os.close(descriptor)
            descriptor = inner
        # O_NONBLOCK: opening a named pipe must not wait for a writer; it is refused below.
        with os.fdopen(_open_at(descriptor, parts[-1], flags | os.O_NONBLOCK), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ValueError("not a regular file")
            return _checked(handle.read(MAX_FILE_BYTES + 1))
    finally:
        os.close(descriptor)


def _open_at(folder: int, name: str, flags: int) -> int:
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as error:
        link = error.errno in (errno.ELOOP, errno.ENOTDIR) and \
            stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
        if link:
            raise ValueError("a symbolic link, which the grader does not follow") from None
        if error.errno == errno.ENOTDIR:
            raise FileNotFoundError(name) from None
        raise


def _checked(content: bytes) -> bytes:
    if len(content) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 1024} KiB")
    return content


def _collect_zip(path: Path, exercises: Sequence[Exercise]) -> Staged:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        return Staged(problems={e.id: f"{path.name} is not a readable .zip file ({error})" for e in exercises})
    staged = Staged()
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        for exercise in exercises:
            wanted = ("exercises", exercise.id, f"{exercise.module}.py")
            nested = [m for m in members if PurePosixPath(m.filename).parts[-3:] == wanted]
            loose = [m for m in members if PurePosixPath(m.filename).name == f"{exercise.module}.py"]
            chosen = min(nested or loose, key=lambda m: len(PurePosixPath(m.filename).parts), default=None)
            if chosen is None:
                staged.problems[exercise.id] = f"no file exercises/{exercise.id}/{exercise.module}.py in {path.name}"
            elif chosen.file_size > MAX_FILE_BYTES:
                staged.problems[exercise.id] = f"{chosen.filename} in {path.name} is larger than 1 MiB"
            else:
                try:
                    with archive.open(chosen) as member:
                        staged.files[exercise.id] = _checked(member.read(MAX_FILE_BYTES + 1))
                except (OSError, ValueError, zipfile.BadZipFile) as error:
                    staged.problems[exercise.id] = f"{chosen.filename} in {path.name} cannot be read ({error})"
    return staged


def git_commit(repository: Path) -> str | None:
    """HEAD's commit of a git repository, read from its files: running git on a student's
    repository would run whatever its .git/config asks for."""
    def text(*parts: str) -> str:
        return read_inside(repository, (".git", *parts)).decode("ascii").strip()

    try:
        head = text("HEAD")
        if not head.startswith("ref: "):
            return _commit_id(head)
        ref = head[5:]
        try:
            return _commit_id(text(*ref.split("/")))
        except FileNotFoundError:
            for line in text("packed-refs").splitlines():
                if line.endswith(f" {ref}"):
                    return _commit_id(line.split()[0])
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return None


def _commit_id(text: str) -> str | None:
    return text if re.fullmatch(r"[0-9a-f]{40}", text) else None


def kit_fingerprint(exercises: Sequence[Exercise]) -> str:
    """A digest of everything of the kit that can change a grade: a change to any of it
    regrades everyone."""
    root = KIT_ROOT
    parts = [root / "exercises.toml", root / "grader", *(e.reference_dir for e in exercises),
             *(e.hidden_suite_dir for e in exercises)]
    digest = hashlib.sha256()
    for part in parts:
        for path in [part] if part.is_file() else sorted(part.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
