"""The files of checked-out repositories the measuring tools look at, walked the way `unroot check` walks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# The directories `unroot check` does not enter (bot/cli.py); measuring inside them would count
# what no run of the CLI could ever read.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"})


def walk(root: Path) -> Iterator[Path]:
    """Every regular file below `root` in sorted order, symlinks and skipped directories left out."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS)
        for name in sorted(files):
            candidate = Path(directory) / name
            if not candidate.is_symlink() and candidate.is_file():
                yield candidate


def relative(path: Path, root: Path) -> str:
    """`path` as a POSIX path below `root`, prefixed with the root's own name (`istio/samples/x.yaml`)."""
    return f"{root.name}/{path.relative_to(root).as_posix()}"
