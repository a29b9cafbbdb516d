"""Decide what the bot says on a pull request: which findings get an inline comment, where, and what else goes in the review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import render
from bot.config import DOCS_URL
from bot.diff import FileChange, Hunk, hunk_holding, parse_patch
from bot.fingerprint import fingerprint
from bot.limits import DEFAULT_INLINE_COMMENTS
from bot.outputs import Annotation, Group, Plan
from rules.fixes import EditConflict, merge_edits, split_lines
from rules.model import Finding, LineEdit, Severity
from rules.registry import SKIPPED, by_id


@dataclass(frozen=True)
class _Placed:
    """A group's comment inside the diff: its last line, first line (multi-line), and suggestion."""

    group: Group
    line: int
    start_line: int | None
    suggestion: str | None


def _order(finding: Finding) -> tuple[int, str, int, int, str]:
    return (-finding.severity.rank, finding.path, finding.line, finding.end_line, finding.rule)


def _span(edits: Sequence[LineEdit]) -> tuple[int, int]:
    """The lines a suggestion made of `edits` replaces (an insertion holds its line)."""
    start = min(e.start_line for e in edits)
    return start, max(max(e.end_line for e in edits), start)


def _groups(pairs: Sequence[tuple[Finding, str]]) -> list[Group]:
    """Findings whose fixes touch overlapping lines share one comment; the others get one each.

    Overlapping, not only equal: the fix of a container running as UID 0 edits the pod's and
    the container's securityContext, the seccomp fix the pod's alone. Two suggestions over the
    same lines could not both be committed, so such findings get one suggestion with all edits."""
    clusters: list[list[int]] = []  # indices into pairs
    by_path: dict[str, list[int]] = {}
    for n, (finding, _) in enumerate(pairs):
        if render.edits_of(finding):
            by_path.setdefault(finding.path, []).append(n)
        else:
            clusters.append([n])
    for indices in by_path.values():
        spans = {n: _span(render.edits_of(pairs[n][0])) for n in indices}
        local: list[list[int]] = []
        reach = 0
        for n in sorted(indices, key=lambda i: spans[i]):
            start, end = spans[n]
            if local and start <= reach:
                local[-1].append(n)
                reach = max(reach, end)
            else:
                local.append([n])
                reach = end
        clusters.extend(local)
    groups: list[Group] = []
    for cluster in sorted((sorted(c) for c in clusters), key=lambda c: c[0]):
        members = [pairs[n] for n in cluster]
        edits = {e for finding, _ in members for e in render.edits_of(finding)}
        groups.append(
            Group(
                members[0][0].path,
                tuple(f for f, _ in members),
                tuple(dict.fromkeys(fp for _, fp in members)),
                tuple(sorted(edits, key=render.edit_order)),
            )
        )
    return groups


def _place(group: Group, hunks: Sequence[Hunk], head_lines: Sequence[str] | None) -> _Placed | None:
    """Where the group's comment goes inside the diff, with its suggestion; None when outside it."""
    if group.edits and head_lines is not None:
        try:
            edits = merge_edits(group.edits)
        except EditConflict:
            edits = []
        if edits:
            start = min(e.start_line for e in edits)
            end = max(e.end_line for e in edits)
            if hunk_holding(hunks, start, end) is not None:
                text = render.suggestion(edits, head_lines, start, end)
                if text is not None:
                    return _Placed(group, end, start if start < end else None, text)
    for finding in group.findings:
        line = max(finding.line, 1)
        hunk = hunk_holding(hunks, line, line)
        if hunk is None:
            continue
        end = max(finding.end_line, line)
        if end > line and all(n in hunk.right_lines for n in range(line, end + 1)):
            return _Placed(group, end, line, None)
        return _Placed(group, line, None, None)
    return None


def plan_review(
    findings: Sequence[Finding],
    changes: Sequence[FileChange],
    head_texts: Mapping[str, str],
    already_commented: frozenset[str] = frozenset(),
    *,
    max_comments: int = DEFAULT_INLINE_COMMENTS,
    request_changes: bool = False,
    docs_url: str = DOCS_URL,
    files_checked: int = 0,
) -> Plan:
    """What to post for the findings at a pull request's head commit."""
    ordered = sorted(findings, key=_order)
    texts = {path: split_lines(text) for path, text in head_texts.items()}
    voice = render.Renderer(by_id(), docs_url, texts)
    pairs = [(f, fingerprint(f, head_texts.get(f.path, ""))) for f in ordered]
    new = [(f, fp) for f, fp in pairs if f.rule != SKIPPED.id and fp not in already_commented]

    by_path = {change.path: change for change in changes}
    inline: list[_Placed] = []
    outside: list[Group] = []
    for group in _groups(new):
        change = by_path.get(group.path)
        placed = None
        if change is not None and change.status != "removed" and change.patch is not None:
            placed = _place(group, parse_patch(change.patch), texts.get(group.path))
        if placed is None:
            outside.append(group)
        else:
            inline.append(placed)
    inline.sort(key=lambda p: (-p.group.rank, p.group.path, p.start_line or p.line, p.line))
    outside.sort(key=lambda g: (-g.rank, g.path, g.line))
    limit = max(max_comments, 0)
    kept, overflow = inline[:limit], [p.group for p in inline[limit:]]

    comments = tuple(voice.comment(p.group, p.line, p.start_line, p.suggestion) for p in kept)
    review_body = voice.review_body([p.group for p in kept], outside, overflow, limit)
    posted_error = any(f.severity is Severity.ERROR for f, _ in new)
    title = render.title(ordered, files_checked)
    return Plan(
        comments=comments,
        review_body=review_body,
        review_event="REQUEST_CHANGES" if request_changes and posted_error and review_body else "COMMENT",
        annotations=tuple(voice.annotation(f) for f in ordered),
        conclusion="failure" if any(f.severity is Severity.ERROR for f in ordered) else "success",
        title=title,
        summary=voice.summary(ordered, title, files_checked),
        fingerprints=frozenset(fp for _, fp in pairs),
    )


def group_annotations(annotations: Sequence[Annotation]) -> list[Annotation]:
    """One annotation per place: findings on the same lines of a file share it (GitHub shows one
    box per place anyway), which keeps the check-run requests few on large pull requests."""
    places: dict[tuple[str, int, int], list[Annotation]] = {}
    for annotation in annotations:
        places.setdefault((annotation.path, annotation.start_line, annotation.end_line), []).append(annotation)
    return [items[0] if len(items) == 1 else render.merged_annotation(items) for items in places.values()]
