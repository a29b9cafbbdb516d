"""A chart's files written into a private directory, refusing any path that would land outside it."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath


class UnsafePath(ValueError):
    """A chart file's path is absolute or climbs out of the chart (the files come from other people's repos)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"chart file path leaves the chart directory: {path!r}")
        self.path = path


def checked(path: str) -> PurePosixPath:
    """`path` as a relative path inside the chart, or UnsafePath."""
    pure = PurePosixPath(path)
    if not path or "\0" in path or "\\" in path or pure.is_absolute() or ".." in pure.parts:
        raise UnsafePath(path)
    if pure.parts in ((), (".",)):
        raise UnsafePath(path)
    return pure


def identity(files: Mapping[str, bytes]) -> str:
    """A digest naming exactly these files and contents: the key a child caches a chart under."""
    digest = hashlib.sha256()
    for path in sorted(files):
        content = files[path]
        digest.update(f"{len(path)}:{path}:{len(content)}:".encode())
        digest.update(content)
    return digest.hexdigest()


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    """Each file under `directory`; every path is checked before anything is written."""
    targets = [(directory.joinpath(checked(path)), content) for path, content in files.items()]
    for target, content in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a path that a previous file made into a symlink is never followed (we write none,
        # but a copy of a chart directory must not become a way out either).
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)


def copy_with(source: Path, destination: Path, replace: Mapping[str, bytes]) -> None:
    """`source` copied to `destination` with the files of `replace` written over it (a fix being checked)."""
    shutil.copytree(source, destination, symlinks=True)
    write_files(destination, replace)
