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
                f"edits overlap: lines {before.start_line}-{before.end_line} and {after.start_line}-{after.end_line}"
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
            raise EditConflict(f"edit {edit.start_line}-{edit.end_line} outside a file of {len(lines)} lines")
        out.extend(lines[cursor : edit.start_line - 1])
        last_replaced = lines[edit.end_line - 1]
        # The replaced lines' own ending, where the file mixes them: a "\r" put before the
        # "\n" that starts the next line would fuse with it into one "\r\n" break.
        local = re.search(r"(?:\r\n|\r|\n)$", last_replaced)
        replacement = edit.replacement.replace("\n", local.group() if local else newline)
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
            return _merge_spans(lines, group)
    return LineEdit(widest.start_line, widest.end_line, replacement)


def _normalized(lines: list[str], start: int, end: int) -> str:
    """Lines start..end (1-based) with "\\n" endings, the way edits write them."""
    text = "".join(lines[start - 1 : end]).replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix; by bisection, so a megabyte line costs slices, not a loop."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _changed_span(original: str, replacement: str) -> tuple[int, int, str]:
    """The one stretch of `original` that `replacement` changes: (begin, end, new text)."""
    head = _common_prefix(original, replacement)
    tail = _common_prefix(original[head:][::-1], replacement[head:][::-1])
    return head, len(original) - tail, replacement[head : len(replacement) - tail]


def _merge_spans(lines: list[str], group: list[LineEdit]) -> LineEdit | None:
    """Compose edits that change different characters of the same lines (one-line JSON).

    Each edit is reduced to the one stretch it changes; when those stretches are
    disjoint they are applied together, otherwise nothing is guessed.
    """
    first = min(e.start_line for e in group)
    last = max(e.end_line for e in group)
    region = _normalized(lines, first, last)
    spans: list[tuple[int, int, str]] = []
    for edit in group:
        offset = len(_normalized(lines, first, edit.start_line - 1)) if edit.start_line > first else 0
        begin, end, text = _changed_span(_normalized(lines, edit.start_line, edit.end_line), edit.replacement)
        spans.append((offset + begin, offset + end, text))
    spans.sort()
    for (_b1, end1, _t1), (begin2, _e2, _t2) in zip(spans, spans[1:]):
        if begin2 <= end1:
            return None  # overlapping, or two insertions at one place: their order is unknown
    out: list[str] = []
    cursor = 0
    for begin, end, text in spans:
        out.append(region[cursor:begin])
        out.append(text)
        cursor = end
    out.append(region[cursor:])
    return LineEdit(first, last, "".join(out))


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
