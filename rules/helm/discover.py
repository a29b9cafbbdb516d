"""Which files make up which chart: a chart is a folder holding Chart.yaml, with all below it (its subcharts too)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

CHART_FILE = "Chart.yaml"
# What one chart may weigh before it is read: a real chart is tens of files and a few hundred KB
# (ingress-nginx: 230 files, 1.1 MB with its CI values and docs).
MAX_CHART_FILES = 2_000
MAX_CHART_BYTES = 20_000_000


def chart_roots(paths: Iterable[str]) -> list[str]:
    """Chart directories among repository paths ("" for a chart at the root), outermost only:
    a chart under another chart's folder (a vendored subchart in charts/) renders with its parent."""
    roots = sorted(
        {posixpath.dirname(path) for path in paths if posixpath.basename(path) == CHART_FILE},
        key=lambda root: (root.count("/") if root else -1, root),
    )
    outer: list[str] = []
    for root in roots:
        if not any(_inside(root, parent) for parent in outer):
            outer.append(root)
    return sorted(outer)


def _inside(path: str, root: str) -> bool:
    """True when `path` is `root` or below it ("" is the repository root)."""
    return root == "" or path == root or path.startswith(root + "/")


def chart_of(path: str, roots: Iterable[str]) -> str | None:
    """The chart a file belongs to, or None."""
    owners = [root for root in roots if _inside(posixpath.dirname(path), root) or path == root]
    return max(owners, key=len) if owners else None


def relative(path: str, root: str) -> str:
    """A repository path as the chart sees it."""
    return path[len(root) + 1 :] if root else path
