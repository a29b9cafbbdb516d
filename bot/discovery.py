"""Which config file governs each path the CLI checks: the nearest one up to its repository root."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Looked for in each directory from the path up to its repository root, nearest first.
CONFIG_NAMES = (".github/unroot.yml", "unroot.yml")


@dataclass(frozen=True)
class Located:
    """A config file (None: there is none, defaults apply), the directory it speaks for (`ignore:`
    and `baseline:` are relative to it), and the git repository the paths are in (baselines' and
    SARIF's paths are relative to it: code scanning knows files by their place in the repository)."""

    config: Path | None
    root: Path
    repository: Path


def repository_root(path: Path) -> Path | None:
    """The nearest directory holding `.git` at or above `path` (absolute), else None."""
    for directory in _upwards(path):
        if (directory / ".git").exists():
            return directory
    return None


def config_root(config: Path) -> Path:
    """The directory a config file speaks for: above `.github/`, else the file's own directory."""
    folder = config.absolute().parent
    return folder.parent if folder.name == ".github" else folder


def locate(path: Path) -> Located:
    """The config of `path`: the nearest `.github/unroot.yml` (then `unroot.yml`) walking up from it
    to its repository root (the nearest directory holding `.git`, else the filesystem root)."""
    repository = repository_root(path)
    for directory in _upwards(path):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return Located(candidate, directory, repository or directory)
        if directory == repository:
            return Located(None, directory, directory)
    cwd = Path.cwd()  # no repository and no config: paths are as good as the cwd's
    return Located(None, cwd, cwd)


def group_paths(paths: Sequence[str], override: str | None) -> list[tuple[Located, list[str]]]:
    """The paths grouped by the config that governs them, in the order each config is first met;
    `override` (`--config FILE`) governs every path."""
    groups: dict[Located, list[str]] = {}
    found: dict[Path, Located] = {}  # by the folder the walk starts in: a pre-commit run names many files of one
    for raw in paths:
        if override is None:
            start = _upwards(Path(raw))[0]
            located = found.get(start) or found.setdefault(start, locate(Path(raw)))
        else:
            repository = repository_root(Path(raw)) or Path.cwd()
            located = Located(Path(override), config_root(Path(override)), repository)
        groups.setdefault(located, []).append(raw)
    return list(groups.items())


def _upwards(path: Path) -> list[Path]:
    """`path`'s directory (itself when it is one) and each directory above it."""
    start = Path(os.path.abspath(path))
    if not start.is_dir():
        start = start.parent
    return [start, *start.parents]
