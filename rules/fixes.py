"""Apply line edits to text, keeping every untouched byte as it was."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rules.model import LineEdit


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, breaking only at \\r\\n, \\r and \\n (as YAML and Docker do)."""
    return _LINE.findall(text)


class EditConflict(ValueError):
    """Two different edits claim the same line."""


def newline_of(text: str) -> str:
    """The file's line ending: that of its first line ("\\n" when it has none)."""
    first = text.find("\n")
    if first > 0 and text[first - 1] == "\r":
        return "\r\n"
    return "\n"


def merge_edits(edits: Iterable[LineEdit]) -> list[LineEdit]:
    """Sorted, de-duplicated edits; identical edits from several findings count once."""
    unique = sorted(set(edits), key=lambda e: (e.start_line, e.end_line))
    for before, after in zip(unique, unique[1:]):
        if after.start_line <= before.end_line:
            raise EditConflict(
                f"edits overlap: lines {before.start_line}-{before.end_line} "
                f"and {after.start_line}-{after.end_line}"
            )
    return unique


def apply(text: str, edits: Iterable[LineEdit]) -> str:
    """Return `text` with `edits` applied; line endings follow the file's own style.

    The last line keeps its state: a file without a final newline still has none.
    """
    merged = merge_edits(edits)
    if not merged:
        return text
    lines = split_lines(text)
    newline = newline_of(text)
    out: list[str] = []
    cursor = 0  # index into lines of the next untouched line
    for edit in merged:
        if edit.start_line < 1 or edit.end_line > len(lines) or edit.end_line < edit.start_line:
            raise EditConflict(
                f"edit {edit.start_line}-{edit.end_line} outside a file of {len(lines)} lines"
            )
        out.extend(lines[cursor : edit.start_line - 1])
        replacement = edit.replacement.replace("\n", newline)
        last_replaced = lines[edit.end_line - 1]
        if edit.end_line == len(lines) and not last_replaced.endswith(("\n", "\r")):
            # Keep "no newline at end of file" as it was.
            if replacement.endswith(newline):
                replacement = replacement[: -len(newline)]
        out.append(replacement)
        cursor = edit.end_line
    out.extend(lines[cursor:])
    return "".join(out)
