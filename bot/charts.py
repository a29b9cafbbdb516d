"""Helm charts on disk for the CLI: find them, read them whole, and analyse each with a renderer."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.config import RepoConfig
from rules.helm.chart import analyse_chart
from rules.helm.discover import CHART_FILE, MAX_CHART_BYTES, MAX_CHART_FILES
from rules.helm.render import ChartSource, Renderer
from rules.model import Finding
from rules.ur001_file_skipped import skipped

_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"}


def _enclosing_chart(directory: Path) -> Path | None:
    """The outermost chart folder holding `directory` (itself included), below any repository root."""
    found: Path | None = None
    current = directory.resolve()
    for candidate in (current, *current.parents):
        if (candidate / CHART_FILE).is_file():
            found = candidate
        if (candidate / ".git").exists():
            break
    if found is None:
        return None
    # Keep the caller's spelling (a relative path stays relative) where the chart is `directory` or above it.
    try:
        return Path(os.path.relpath(found)) if not directory.is_absolute() else found
    except ValueError:  # another drive (Windows)
        return found


def find_charts(paths: Sequence[str]) -> list[Path]:
    """Every chart the paths name or hold: a file or folder inside a chart means that chart, and a
    walked folder's charts are found by their Chart.yaml (a chart's own subcharts render with it)."""
    charts: dict[Path, None] = {}
    for raw in paths:
        start = Path(raw)
        if start.is_file():
            owner = _enclosing_chart(start.parent)
            if owner is not None:
                charts[owner] = None
        elif start.is_dir():
            owner = _enclosing_chart(start)
            if owner is not None:
                charts[owner] = None
                continue
            for directory, subdirs, files in os.walk(start):
                if CHART_FILE in files and not Path(directory, CHART_FILE).is_symlink():
                    charts[Path(directory)] = None
                    subdirs[:] = []
                else:
                    subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
    return list(charts)


def in_charts(path: Path, charts: Iterable[Path]) -> bool:
    """True for a file that belongs to one of the charts (it is judged through the chart)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(chart.resolve()) for chart in charts)


def read_chart(root: Path) -> ChartSource | str:
    """The chart's files as the renderer takes them, or why it is not read (too many, too big)."""
    files: dict[str, bytes] = {}
    total = 0
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS and not Path(directory, d).is_symlink())
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_symlink() or not path.is_file():
                continue  # a link may point anywhere; Helm itself refuses some
            if len(files) >= MAX_CHART_FILES:
                return f"the chart has more than {MAX_CHART_FILES:,} files"
            size = path.stat().st_size
            total += size
            if total > MAX_CHART_BYTES:
                return f"the chart is larger than {MAX_CHART_BYTES:,} bytes"
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    name = root.as_posix()
    return ChartSource("" if name == "." else name, files)


def _repository_key(root: Path) -> str:
    """The chart's folder relative to its git repository (how `helm.charts` names it)."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return root.as_posix()
    if top.returncode != 0 or not top.stdout.strip():
        return root.as_posix()
    relative = os.path.relpath(root.resolve(), Path(top.stdout.strip()).resolve())
    return "" if relative == "." else Path(relative).as_posix()


def check_charts(
    charts: Sequence[Path], config: RepoConfig, renderer: Renderer
) -> tuple[list[Finding], dict[str, str], int]:
    """Findings of every chart, the text of each file they are on (for `unroot fix`), and how many
    files the charts hold."""
    count = 0
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    for root in charts:
        source = read_chart(root)
        if isinstance(source, str):
            findings.append(skipped((root / CHART_FILE).as_posix(), source))
            count += 1
            continue
        count += len(source.files)
        if config.ignored(source.root + "/" + CHART_FILE if source.root else CHART_FILE):
            continue
        found = analyse_chart(source, renderer, config.options, config.chart_values(_repository_key(root)))
        findings.extend(found)
        for finding in found:
            relative = finding.path[len(source.root) + 1 :] if source.root else finding.path
            data = source.files.get(relative)
            if data is not None:
                texts[finding.path] = data.decode("utf-8", errors="replace")
    return findings, texts, count
