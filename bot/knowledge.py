"""What a checked-out repository knows about the images it builds, gathered for `unroot check` and `fix`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from bot.discovery import repository_root as git_root
from rules.analyze import file_kind
from rules.repository import RepoKnowledge, gather, references

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"})
MAX_FILE_BYTES = 1_000_000  # a mapping file or Dockerfile larger than this is not one a person wrote


def repository_root(paths: Sequence[str]) -> Path | None:
    """The git work tree holding every path, else the paths' common directory."""
    resolved = [Path(p).resolve() for p in paths]
    if not resolved:
        return None
    try:
        common = Path(os.path.commonpath([str(p) for p in resolved]))
    except ValueError:  # paths on different drives
        return None
    if common.is_file():
        common = common.parent
    return git_root(common) or common


def tree_listing(root: Path) -> list[str]:
    """Every regular file under `root`, as a path from it with "/" separators (symlinks left out).

    One scandir a directory, whose entries know their type: no stat a file (a per-file hook in
    a repository of thousands of files pays for this walk on every run)."""
    listing: list[str] = []
    pending = [(str(root), "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        continue
                    if entry.is_dir():
                        if entry.name not in SKIP_DIRS:
                            pending.append((entry.path, f"{prefix}{entry.name}/"))
                    elif entry.is_file():
                        listing.append(prefix + entry.name)
        except OSError:
            continue  # unreadable directory: its files are simply not known
    return listing


def _read_text(path: Path) -> str | None:
    try:
        if path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def wanted_images(files: Iterable[Path]) -> set[str]:
    """The image references the files to be checked name (`image:` in manifests, FROM in Dockerfiles)."""
    found: set[str] = set()
    for path in files:
        if file_kind(path.name) is None:
            continue
        text = _read_text(path)
        if text is not None and ("image" in text or "FROM" in text.upper()):
            found |= references(path.name, text)
    return found


def for_files(files: Sequence[Path], paths: Sequence[str]) -> RepoKnowledge:
    """The knowledge that the repository holding `paths` has of the images `files` name."""
    root = repository_root(paths)
    if root is None:
        return RepoKnowledge()
    wanted = wanted_images(files)
    tree = tree_listing(root)

    def read(wanted_paths: list[str]) -> dict[str, str]:
        texts = {p: _read_text(root / p) for p in wanted_paths}
        return {p: t for p, t in texts.items() if t is not None}

    known = gather(tree, read, wanted)
    return replace(known, patches=frozenset(_as_named(files, root, known.patches)))


def _as_named(files: Iterable[Path], root: Path, patches: frozenset[str]) -> Iterator[str]:
    """The patch files among `files`, named as the CLI names them to the analyser (as walked, not
    from the repository root), so that the rules can tell them by path."""
    if not patches:
        return
    for file in files:
        try:
            relative = file.resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # outside the repository
        if relative in patches:
            yield file.as_posix()
