"""Baselines: the findings a repository has accepted, by fingerprint, so `unroot check` reports only new ones."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from bot.fingerprint import fingerprint
from rules.model import Finding

VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be read or is not one; the message says which and why."""


def repository_path(path: str, root: Path) -> str:
    """`path` (as the CLI names it, relative to the cwd) relative to the repository root, so a
    fingerprint does not depend on where the command ran; a path outside the root stays absolute."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, root)
    return Path(absolute if relative.startswith("..") else relative).as_posix()


def fingerprints(findings: Sequence[Finding], texts: Mapping[str, str], root: Path) -> list[str]:
    """Each finding's fingerprint (bot/fingerprint.py's, stable under line moves), path made repository-relative."""
    result: list[str] = []
    for finding in findings:
        text = texts.get(finding.path)
        if text is None:
            text = _read(finding.path)
        result.append(fingerprint(replace(finding, path=repository_path(finding.path, root)), text))
    return result


def write(target: Path, rows: Sequence[tuple[Finding, str, Path]]) -> None:
    """The baseline file: a version and, per finding (with its fingerprint and repository root), its
    fingerprint, rule, path, line and message (line and message only help a reader: matching uses the
    fingerprint)."""
    import json

    entries = [
        {
            "fingerprint": fp,
            "rule": finding.rule,
            "path": repository_path(finding.path, root),
            "line": finding.line,
            "message": finding.message,
        }
        for finding, fp, root in rows
    ]
    target.write_text(json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8")


def read(source: Path) -> Counter[str]:
    """The fingerprints a baseline file holds, counted (two equal findings are two entries)."""
    import json

    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot read the baseline {source}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"the baseline {source} is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(
            f"the baseline {source} is not an unroot baseline (version {VERSION}); write one with --write-baseline"
        )
    counts: Counter[str] = Counter()
    for position, entry in enumerate(data["findings"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"the baseline {source}: finding {position + 1} has no fingerprint")
        counts[entry["fingerprint"]] += 1
    return counts


def new_findings(findings: Sequence[Finding], prints: Sequence[str], known: Counter[str]) -> list[Finding]:
    """The findings the baseline does not hold, as a multiset: with two equal findings and one in the
    baseline, one of them is new."""
    left = Counter(known)
    fresh: list[Finding] = []
    for finding, fp in zip(findings, prints):
        if left[fp] > 0:
            left[fp] -= 1
        else:
            fresh.append(finding)
    return fresh


def _read(path: str) -> str:
    """A finding's file when its text was not kept (an overlay's findings): the fingerprint anchors its lines."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
