"""Fingerprints of findings and the hidden markers that carry them in what the bot posted."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from rules.fixes import split_lines
from rules.model import Finding

_MARKER = re.compile(r"<!-- unroot:(UR\d+:[^\s<>]+?:[0-9a-f]{12}) -->")
_FENCE_LINE = re.compile(r"(`{3,}|~{3,})(.*)")


def fingerprint(finding: Finding, head_text: str) -> str:
    """`RULE:path:hash`, stable while the rule, path, subject and anchored lines' text stay the same."""
    lines = split_lines(head_text)
    anchored = "\n".join(
        line.rstrip() for line in lines[max(finding.line, 1) - 1 : max(finding.end_line, finding.line)]
    )
    key = "\x00".join((finding.rule, finding.path, finding.subject, anchored))
    digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    # The path is percent-encoded: a hostile file name must not close the HTML comment
    # ("-->") or forge another marker.
    return f"{finding.rule}:{quote(finding.path, safe='/')}:{digest}"


def marker(fp: str) -> str:
    """The hidden HTML comment that carries a fingerprint in a comment body."""
    return f"<!-- unroot:{fp} -->"


def is_marker(line: str) -> bool:
    """Whether `line` is one of the bot's markers, alone on its line as the bot writes them."""
    return _MARKER.fullmatch(line.strip()) is not None


def fingerprints_in(body: str) -> set[str]:
    """Every fingerprint marked in a comment or review body, where the bot writes them: a marker
    alone on its line, outside code blocks. Repository text the bot quotes (a suggestion, a
    diff) sits inside fences, so a marker planted in a file never counts."""
    found: set[str] = set()
    fence = ""
    for line in body.split("\n"):
        stripped = line.strip()
        opening = _FENCE_LINE.match(stripped)
        if fence:
            if opening and opening.group(1).startswith(fence) and not opening.group(2).strip():
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        match = _MARKER.fullmatch(stripped)
        if match:
            found.add(match.group(1))
    return found
