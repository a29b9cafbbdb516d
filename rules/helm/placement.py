"""Which template line a rendered line comes from: the template's literal text aligned with the output.

A template line is its literal text with a wildcard for each `{{ … }}` action; a rendered line
matches it when the literal parts appear in order. The alignment is the longest common
subsequence under that match, so lines from includes and loops are skipped rather than
mismatched; a rendered line left unmatched belongs to the nearest matched line before it (an
`include` or `toYaml` line emits everything after it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACTION = re.compile(r"\{\{.*?\}\}")
_EMITS = re.compile(r"\{\{")
# Actions that emit nothing themselves: control flow, variable assignments and comments.
_CONTROL = re.compile(r"^\{\{-?\s*(?:(?:if|else|end|with|range|define|block)\b|/\*|\$\w+\s*:?=)")
_MAX_CELLS = 4_000_000  # rendered lines x template lines beyond which no alignment is tried


@dataclass(frozen=True)
class Alignment:
    """rendered line -> template line (both 1-based); `exact` holds the lines matched literally."""

    lines: dict[int, int]
    exact: frozenset[int]

    def template_line(self, rendered_line: int) -> int | None:
        """The template line that emits `rendered_line`, or None when nothing before it matched."""
        return self.lines.get(rendered_line)


def _pattern(line: str) -> re.Pattern[str] | None:
    """A matcher for a template line's output, or None for a line that is all actions or blank."""
    stripped = line.strip()
    literal = _ACTION.sub("", stripped)
    if "{{" in literal or "}}" in literal:
        return None  # an action spanning lines: no literal text to trust
    if len(literal.replace(" ", "").replace("-", "").replace(":", "")) < 2:
        return None  # nothing distinctive: `- {{ . }}`, `{{- end }}`
    parts = [re.escape(part) for part in _ACTION.split(stripped)]
    return re.compile(r"\s*" + ".*?".join(parts) + r"\s*")


def align(template: str, rendered: str) -> Alignment:
    """Map each rendered line to the template line that most likely produced it."""
    template_lines = template.splitlines()
    rendered_lines = rendered.splitlines()
    patterns = [_pattern(line) for line in template_lines]
    rows, cols = len(rendered_lines), len(template_lines)
    if rows * cols > _MAX_CELLS or not rows or not cols:
        return Alignment({}, frozenset())
    match = [[p is not None and p.fullmatch(r) is not None for p in patterns] for r in rendered_lines]
    # Longest common subsequence, filled from the end so the walk below goes forward.
    score = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        row, below = score[i], score[i + 1]
        for j in range(cols - 1, -1, -1):
            if match[i][j]:
                row[j] = below[j + 1] + 1
            else:
                row[j] = max(below[j], row[j + 1])
    pairs: dict[int, int] = {}
    i = j = 0
    while i < rows and j < cols:
        if match[i][j] and score[i][j] == score[i + 1][j + 1] + 1:
            pairs[i + 1] = j + 1
            i, j = i + 1, j + 1
        elif score[i + 1][j] >= score[i][j + 1]:
            i += 1
        else:
            j += 1
    return Alignment(_fill(pairs, template_lines, rows), frozenset(pairs))


def _fill(pairs: dict[int, int], template_lines: list[str], rows: int) -> dict[int, int]:
    """Give each unmatched rendered line the first emitting action between its matched neighbours
    (the `include` or `toYaml` that wrote it), else the matched line before it."""
    lines: dict[int, int] = {}
    matched = sorted(pairs.items())
    previous_template = 0
    next_index = 0
    for number in range(1, rows + 1):
        if number in pairs:
            lines[number] = previous_template = pairs[number]
            next_index += 1
            continue
        following = matched[next_index][1] if next_index < len(matched) else len(template_lines) + 1
        emitter = next(
            (
                t
                for t in range(previous_template + 1, following)
                if _EMITS.search(template_lines[t - 1]) and not _CONTROL.match(template_lines[t - 1].strip())
            ),
            None,
        )
        if emitter is not None:
            lines[number] = emitter
        elif previous_template:
            lines[number] = previous_template
    return lines
