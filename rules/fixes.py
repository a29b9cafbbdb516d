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
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


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


def _compose(lines: list[str], group: list[LineEdit]) -> LineEdit | None:
    """One edit that does what every edit of an overlapping group does, or None.

    It works when the widest edit copies the lines the others change verbatim (as
    block rewrites do), or when the others only add lines at its edges (as insertions
    do); anything else is refused rather than guessed.
    """
    widest = max(group, key=lambda e: (e.end_line - e.start_line, -e.start_line))
    replacement = widest.replacement
    for edit in sorted(group, key=lambda e: -e.start_line):
        if edit is widest:
            continue
        if edit.start_line < widest.start_line or edit.end_line > widest.end_line:
            return None
        original = "".join(lines[edit.start_line - 1 : edit.end_line]).replace("\r\n", "\n").replace("\r", "\n")
        if not original.endswith("\n"):
            original += "\n"
        if replacement.count(original) == 1:
            replacement = replacement.replace(original, edit.replacement)
        elif edit.end_line == widest.end_line and edit.replacement.startswith(original):
            replacement += edit.replacement[len(original) :]  # lines appended after the range
        elif edit.start_line == widest.start_line and edit.replacement.endswith(original):
            replacement = edit.replacement[: -len(original)] + replacement  # lines put before it
        else:
            return None
    return LineEdit(widest.start_line, widest.end_line, replacement)


def reconcile(text: str, fixes: list[tuple[LineEdit, ...]]) -> dict[LineEdit, LineEdit | None]:
    """Map every edit to the edit that stands for it once overlapping edits are composed.

    Edits that overlap nothing map to themselves; an overlapping group maps to its
    composition, or to None when the group cannot be composed (those fixes are dropped
    rather than applied half-way).
    """
    edits = sorted({edit for fix in fixes for edit in fix}, key=lambda e: (e.start_line, -e.end_line))
    result: dict[LineEdit, LineEdit | None] = {}
    lines = split_lines(text)
    group: list[LineEdit] = []
    group_end = 0

    def close() -> None:
        if len(group) == 1:
            result[group[0]] = group[0]
        elif group:
            composed = _compose(lines, group)
            for edit in group:
                result[edit] = composed

    for edit in edits:
        if group and edit.start_line <= group_end:
            group.append(edit)
            group_end = max(group_end, edit.end_line)
        else:
            close()
            group, group_end = [edit], edit.end_line
    close()
    return result
