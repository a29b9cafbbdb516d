"""A pull request's changed files and their diffs, as GitHub lists them: which lines a comment may target."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

# GitHub's "list pull request files" statuses (a compare's "files" use the same).
FileStatus = Literal["added", "modified", "renamed", "removed", "copied", "changed", "unchanged"]
FILE_STATUSES: frozenset[str] = frozenset(get_args(FileStatus))

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class FileChange:
    """One entry of GitHub's "list pull request files" (or a compare's "files")."""

    path: str
    status: FileStatus
    patch: str | None  # unified diff hunks without file headers; None when GitHub omits it


def file_status(value: object) -> FileStatus:
    """GitHub's status string as a FileStatus; one GitHub adds later counts as "modified"
    (only "removed" changes what the bot does)."""
    text = str(value)
    return cast(FileStatus, text) if text in FILE_STATUSES else "modified"


@dataclass(frozen=True)
class Hunk:
    """The RIGHT side of one hunk: the range its header covers and the lines a comment may target."""

    new_start: int
    new_end: int  # inclusive; new_start - 1 for a hunk with no right-side lines
    right_lines: frozenset[int]  # added ('+') and context (' ') lines


def parse_patch(patch: str) -> list[Hunk]:
    """The hunks of a GitHub `patch`; tolerant of CRLF, "\\ No newline" lines and garbage."""
    lines = patch.split("\n")
    hunks: list[Hunk] = []
    i = 0
    while i < len(lines):
        header = _HUNK.match(lines[i])
        i += 1
        if header is None:
            continue
        old_left = 1 if header[2] is None else int(header[2])
        new_start = int(header[3])
        new_left = 1 if header[4] is None else int(header[4])
        new_end = new_start + new_left - 1
        right: set[int] = set()
        current = new_start
        while i < len(lines) and (old_left > 0 or new_left > 0):
            line = lines[i].rstrip("\r")
            if _HUNK.match(line):
                break
            if line == "" and i == len(lines) - 1:
                break  # the patch's own final newline, not an empty context line
            i += 1
            tag = line[:1]
            if tag == "+" or tag == " " or tag == "":  # "" is a context line whose space was stripped
                if new_left > 0:
                    if current >= 1:
                        right.add(current)
                    current += 1
                    new_left -= 1
                if tag != "+" and old_left > 0:
                    old_left -= 1
            elif tag == "-":
                old_left = max(old_left - 1, 0)
            elif tag == "\\":
                continue  # "\ No newline at end of file"
            else:
                i -= 1
                break  # not part of a hunk: stop here, look for the next header
        hunks.append(Hunk(new_start, new_end, frozenset(right)))
    return hunks


def hunk_holding(hunks: Sequence[Hunk], start: int, end: int) -> Hunk | None:
    """The hunk whose right_lines hold every line start..end, if any."""
    for hunk in hunks:
        if all(n in hunk.right_lines for n in range(start, end + 1)):
            return hunk
    return None
